"""What the identity service signs: an access token saying who an account is right now.

Groups, roles and maintained zones are read when the token is issued (at login and at each
refresh), so a change reaches a caller's tokens within one access token lifetime. An access
token names the refresh or API token it came from (``sid``): logging out revokes that one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from guificloud.auth.claims import to_claims
from guificloud.auth.principal import Principal, Role, known_roles
from guificloud_identity.models import Account, Maintainer, Membership
from guificloud_identity.schemas import AccessOut
from guificloud_identity.settings import IdentitySettings
from guificloud_identity.signing_keys import KeyStore


@dataclass(frozen=True)
class Authority:
    settings: IdentitySettings
    keys: KeyStore

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> Authority:
        return cls(settings, KeyStore(settings))

    async def principal_of(
        self,
        session: AsyncSession,
        account: Account,
        *,
        scopes: list[str] | None = None,
        session_id: str | None = None,
    ) -> Principal:
        rows = await session.execute(
            select(Membership.group_id, Membership.roles).where(Membership.account_id == account.id)
        )
        groups: dict[UUID, frozenset[Role]] = {
            group_id: frozenset(known_roles(roles)) for group_id, roles in rows
        }
        zones = await session.scalars(
            select(Maintainer.zone_id).where(
                or_(
                    Maintainer.account_id == account.id,
                    Maintainer.group_id.in_(groups) if groups else false(),
                )
            )
        )
        return Principal(
            id=account.id,
            kind="tool" if account.kind == "tool" else "member",
            login=account.login,
            is_operator=account.is_operator,
            groups=groups,
            zones=frozenset(zones),
            scopes=None if scopes is None else frozenset(scopes),
            session_id=session_id,
        )

    async def issue(self, session: AsyncSession, principal: Principal) -> AccessOut:
        key = await self.keys.current(session)
        now = int(time.time())
        ttl = self.settings.access_token_ttl_s
        claims = to_claims(principal, issued_at=now, expires_at=now + ttl, jti=uuid4().hex)
        return AccessOut(access_token=key.sign(claims), expires_in=ttl)
