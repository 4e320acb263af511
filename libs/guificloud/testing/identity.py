"""The real identity service in end-to-end tests and benchmarks: its first operator made as
any deployment makes it (``python -m guificloud_identity bootstrap-operator``), logins, and
what an operator then does over its API (groups, members, roles).

    bootstrap_operator(env, OPERATOR_PASSWORD)          # before or while the service starts
    operator = login(identity_url, OPERATOR, OPERATOR_PASSWORD)
    with Accounts(identity_url, operator) as accounts:
        group = accounts.group("lab", allow_nodes=True, allow_slices=True)
        accounts.member("anna", PASSWORD, roles={group: ["node_admin"]})
    http = httpx.Client(auth=login(identity_url, "anna", PASSWORD))
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterable, Mapping

import httpx

from guificloud.credentials import BearerAuth, log_in

OPERATOR = "operator"
OPERATOR_PASSWORD = secrets.token_urlsafe(18)
"""The first operator's password in this process's tests and benchmarks."""
PASSWORD_ENV = "GUIFICLOUD_OPERATOR_PASSWORD"


def bootstrap_operator(
    env: Mapping[str, str], password: str = OPERATOR_PASSWORD, login: str = OPERATOR
) -> None:
    """Make the first operator in the database ``env`` names (nothing if one exists)."""
    done = subprocess.run(
        [sys.executable, "-m", "guificloud_identity", "bootstrap-operator", "--login", login],
        env={**os.environ, **env, PASSWORD_ENV: password},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bootstrap-operator failed ({done.returncode}): {done.stderr}")


def login(identity_url: str, name: str, password: str) -> BearerAuth:
    """An ``httpx.Auth`` for the account: its access token, refreshed before it expires."""
    with httpx.Client(base_url=identity_url, timeout=30.0) as identity:
        return BearerAuth(log_in(identity, name, password), persist=False)


class Accounts:
    """An operator's (or group admin's) requests to the identity service."""

    def __init__(self, identity_url: str, auth: httpx.Auth) -> None:
        self.http = httpx.Client(base_url=identity_url, auth=auth, timeout=30.0)

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def _sent(self, response: httpx.Response, status: int = 200) -> dict[str, object]:
        if response.status_code != status:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: "
                f"{response.status_code} {response.text[:500]}"
            )
        body: dict[str, object] = response.json()
        return body

    def group(self, name: str, *, allow_nodes: bool = False, allow_slices: bool = False) -> str:
        """A new group's id (its founder is its group admin), allowed what is asked."""
        group_id = str(self._sent(self.http.post("/api/v1/groups", json={"name": name}), 201)["id"])
        if allow_nodes or allow_slices:
            allowed = {"allow_nodes": allow_nodes, "allow_slices": allow_slices}
            self._sent(self.http.put(f"/api/v1/groups/{group_id}/allow", json=allowed))
        return group_id

    def member(
        self, login: str, password: str, *, roles: Mapping[str, Iterable[str]] | None = None
    ) -> str:
        """A new member's id, with ``roles`` in each group named (an empty list: a plain
        member)."""
        body = {"login": login, "display_name": login, "password": password}
        account_id = str(self._sent(self.http.post("/api/v1/members", json=body), 201)["id"])
        for group_id, given in (roles or {}).items():
            path = f"/api/v1/groups/{group_id}/members/{account_id}"
            self._sent(self.http.put(path, json={"roles": list(given)}))
        return account_id
