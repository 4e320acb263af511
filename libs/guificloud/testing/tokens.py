"""Access tokens for tests, signed by a test key set that verifiers fetch in memory.

    mint = TokenMint()
    install_verifier(app, mint.verifier())
    token = mint.token(mint.member(groups={group_id: {"slice_admin"}}))

``mint.rotate()`` adds a new signing key (the old one stays published, as the identity
service does), ``mint.retire(kid)`` stops publishing one. For tests against a real identity
service, run it with :func:`guificloud.testing.inprocess.service_in_process` instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID, uuid4

from guificloud.auth.claims import AUDIENCE, to_claims
from guificloud.auth.keys import KeySet
from guificloud.auth.principal import Principal, Role
from guificloud.auth.signer import SigningKey
from guificloud.auth.verifier import Verifier


class TokenMint:
    def __init__(self) -> None:
        self.keys: list[SigningKey] = [SigningKey.generate()]
        self.fetches = 0

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys]}

    async def _fetch(self) -> Mapping[str, Any]:
        self.fetches += 1
        return self.jwks()

    def key_set(self, *, refresh_s: float = 300.0, min_refetch_s: float = 0.0) -> KeySet:
        return KeySet(self._fetch, refresh_s=refresh_s, min_refetch_s=min_refetch_s)

    def verifier(self, **key_set: float) -> Verifier:
        return Verifier(self.key_set(**key_set))

    def rotate(self) -> SigningKey:
        self.keys.append(SigningKey.generate())
        return self.current

    def retire(self, kid: str) -> None:
        self.keys = [key for key in self.keys if key.kid != kid]

    @staticmethod
    def member(
        *,
        login: str = "someone",
        is_operator: bool = False,
        groups: Mapping[UUID, Iterable[Role]] | None = None,
        zones: Iterable[UUID] = (),
        scopes: Iterable[str] | None = None,
        kind: str = "member",
    ) -> Principal:
        return Principal(
            id=uuid4(),
            kind="tool" if kind == "tool" else "member",
            login=login,
            is_operator=is_operator,
            groups={g: frozenset(r) for g, r in (groups or {}).items()},
            zones=frozenset(zones),
            scopes=None if scopes is None else frozenset(scopes),
        )

    def token(
        self,
        principal: Principal,
        *,
        ttl_s: int = 600,
        issued_at: int | None = None,
        audience: str = AUDIENCE,
        key: SigningKey | None = None,
    ) -> str:
        now = int(time.time()) if issued_at is None else issued_at
        claims = to_claims(principal, issued_at=now, expires_at=now + ttl_s, jti=uuid4().hex)
        claims["aud"] = audience
        return (key or self.current).sign(claims)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
