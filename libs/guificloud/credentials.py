"""The stored login every command's HTTP client uses (the ``guificloud`` commands and the
agent's ``config``).

``guificloud login`` keeps a refresh token and the current access token in
``$XDG_CONFIG_HOME/guificloud/credentials.json`` (``~/.config/...`` by default, or the file
``GUIFICLOUD_CREDENTIALS`` names), readable by its owner only. :func:`client_auth` gives an
``httpx.Auth`` that sends the access token, refreshes it shortly before it expires (or once,
when a service answers 401), and stores the new one. A script or CI job may instead set
``GUIFICLOUD_TOKEN`` to an API token: it is exchanged for access tokens the same way, and
nothing is written. Where a command took the deployment's admin token before logins
existed, it still does (:func:`caller_auth`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import httpx

from guificloud.secret_files import ADMIN_TOKEN_ENV, admin_token
from guificloud.settings import DEFAULT_PORTS
from guificloud.tls import env_ca, verify

CREDENTIALS_ENV = "GUIFICLOUD_CREDENTIALS"
TOKEN_ENV = "GUIFICLOUD_TOKEN"
IDENTITY_URL_ENV = "GUIFICLOUD_IDENTITY_URL"
DEFAULT_IDENTITY_URL = f"http://127.0.0.1:{DEFAULT_PORTS['identity']}"
EARLY_S = 30.0
"""An access token this close to its expiry is refreshed before it is sent."""


class LoginRequired(Exception):
    """No usable login: the message says what to do."""


@dataclass(frozen=True)
class StoredLogin:
    identity_url: str
    login: str
    refresh_token: str
    access_token: str = ""
    access_expires_at: float = 0.0

    def fresh(self) -> bool:
        return bool(self.access_token) and time.time() < self.access_expires_at - EARLY_S


def credentials_file() -> Path:
    given = os.environ.get(CREDENTIALS_ENV)
    if given:
        return Path(given)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "guificloud" / "credentials.json"


def load() -> StoredLogin | None:
    path = credentials_file()
    try:
        return StoredLogin(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise LoginRequired(f"{path} is damaged ({exc}): guificloud login again") from exc


def save(stored: StoredLogin) -> Path:
    """Write the login, readable by its owner only from the first byte."""
    path = credentials_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(json.dumps(asdict(stored), indent=2) + "\n")
    return path


def forget() -> None:
    credentials_file().unlink(missing_ok=True)


def log_in(identity: httpx.Client, login: str, password: str) -> StoredLogin:
    """Log in with a password through ``identity`` (a client of the identity service): the
    login to :func:`save`, or to send at once with :class:`BearerAuth`."""
    response = identity.post("/api/v1/auth/login", json={"login": login, "password": password})
    if response.status_code != 200:
        try:
            reason = response.json().get("detail", response.text)
        except ValueError:
            reason = response.text[:300]
        raise LoginRequired(f"{response.status_code}: {reason}")
    tokens = response.json()
    return StoredLogin(
        identity_url=str(identity.base_url).rstrip("/"),
        login=login,
        refresh_token=tokens["refresh_token"],
        access_token=tokens["access_token"],
        access_expires_at=time.time() + float(tokens["expires_in"]),
    )


def exchange(identity_url: str, token: str, timeout_s: float = 30.0) -> tuple[str, float]:
    """An access token (and when it expires) for a refresh or API token."""
    try:
        response = httpx.post(
            identity_url.rstrip("/") + "/api/v1/auth/token",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
            verify=verify(env_ca()),
        )
    except httpx.TransportError as exc:  # not the service the command was talking to
        reason = f"cannot renew the login: identity service at {identity_url}: {exc}"
        raise LoginRequired(reason) from exc
    if response.status_code == 401:
        reason = response.json().get("detail", "refused")
        raise LoginRequired(f"{reason}: guificloud login again")
    response.raise_for_status()
    body = response.json()
    return str(body["access_token"]), time.time() + float(body["expires_in"])


class BearerAuth(httpx.Auth):
    """Sends an access token; refreshes it when it is about to expire or is refused."""

    def __init__(self, stored: StoredLogin, *, persist: bool) -> None:
        self.stored = stored
        self.persist = persist

    def _refresh(self) -> str:
        access, expires_at = exchange(self.stored.identity_url, self.stored.refresh_token)
        self.stored = replace(self.stored, access_token=access, access_expires_at=expires_at)
        if self.persist:
            save(self.stored)
        return access

    def access_token(self) -> str:
        """The access token to send: the current one, or a new one when it is about to
        expire."""
        return self.stored.access_token if self.stored.fresh() else self._refresh()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" in request.headers:  # a command that sends its own credentials
            yield request
            return
        token = self.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # a key rotated, a clock off: one fresh try
            request.headers["Authorization"] = f"Bearer {self._refresh()}"
            yield request


def client_auth() -> httpx.Auth | None:
    """What every command's HTTP client authenticates with: ``GUIFICLOUD_TOKEN`` (an API
    token), else the stored login, else nothing (public reads still work)."""
    api_token = os.environ.get(TOKEN_ENV)
    if api_token:
        url = os.environ.get(IDENTITY_URL_ENV, DEFAULT_IDENTITY_URL)
        return BearerAuth(StoredLogin(url, "", api_token), persist=False)
    stored = load()
    return BearerAuth(stored, persist=True) if stored else None


class AdminTokenAuth(httpx.Auth):
    """Sends the deployment's admin token (an operator's machine credential)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def caller_auth(admin_token_file: Path | None = None) -> httpx.Auth | None:
    """What a command that also takes the admin token authenticates with: the file given
    (``--admin-token-file``), else :func:`client_auth` (an API token or the stored login),
    else ``GUIFICLOUD_ADMIN_TOKEN``, else nothing. A login comes before the admin token of
    the environment: a person acts as themself unless they name the token's file."""
    if admin_token_file is not None:
        return AdminTokenAuth(str(admin_token(admin_token_file)))  # refused unless 0600
    auth = client_auth()
    if auth is not None:
        return auth
    token = os.environ.get(ADMIN_TOKEN_ENV)
    return AdminTokenAuth(token) if token else None


def authorization_header() -> str | None:
    """The ``Authorization`` value :func:`caller_auth` sends (the stored login refreshed if
    needed), for scripts that call the services with other clients (curl): None without
    credentials."""
    auth = caller_auth()
    if isinstance(auth, AdminTokenAuth):
        return f"Bearer {auth.token}"
    if isinstance(auth, BearerAuth):
        return f"Bearer {auth.access_token()}"
    return None
