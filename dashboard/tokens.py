"""Personal access tokens of the read API: created for an account, shown once, stored hashed,
with an expiry, revocable; a token acts with its account's current scope and nothing more."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from . import audit
from .accounts import Account, AccountError, Accounts, normalise_email, token_hash, utcnow
from .db import account, api_token

PREFIX = "dsh_"  # recognisable in a leaked log or a secret scanner
DEFAULT_DAYS = 90
MAX_DAYS = 366


@dataclass(frozen=True)
class TokenInfo:
    id: int
    email: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


class ApiTokens:
    def __init__(self, engine: Engine, now: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.now = now

    def create(self, email: str, days: int = DEFAULT_DAYS, actor: str = "cli") -> tuple[int, str]:
        """(id, token): the token is returned here once and never stored in the clear."""
        if not 1 <= days <= MAX_DAYS:
            raise AccountError(f"--days must be between 1 and {MAX_DAYS}")
        email = normalise_email(email)
        token = PREFIX + secrets.token_urlsafe(32)
        now = self.now()
        with self.engine.begin() as conn:
            acc = conn.execute(select(account).where(account.c.email == email)).first()
            if acc is None:
                raise AccountError(f"no account '{email}'")
            if acc.disabled:
                raise AccountError(f"account '{email}' is disabled")
            key = conn.execute(
                insert(api_token).values(
                    token_hash=token_hash(token),
                    account_id=acc.id,
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
            ).inserted_primary_key
        assert key is not None
        token_id = int(key[0])
        audit.record(self.engine, "token_create", actor, {"email": email, "id": token_id})
        return token_id, token

    def all(self) -> list[TokenInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_token, account.c.email)
                .join(account, account.c.id == api_token.c.account_id)
                .order_by(api_token.c.id)
            ).all()
        return [
            TokenInfo(r.id, r.email, r.created_at, r.expires_at, r.revoked_at, r.last_used)
            for r in rows
        ]

    def revoke(self, token_id: int, actor: str = "cli") -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(api_token)
                .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
                .values(revoked_at=self.now())
            ).rowcount
        if done:
            audit.record(self.engine, "token_revoke", actor, {"id": token_id})
        return bool(done)

    def account_for(self, token: str | None) -> tuple[int, Account] | None:
        """(token id, account) of a live token of an enabled account, read fresh (a new role
        or a disabled account applies at once); None for anything else."""
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            return None
        now = self.now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(account, api_token.c.id.label("token_id"))
                .join(api_token, api_token.c.account_id == account.c.id)
                .where(
                    api_token.c.token_hash == token_hash(token),
                    api_token.c.revoked_at.is_(None),
                    api_token.c.expires_at > now,
                )
            ).first()
            if row is None or row.disabled:
                return None
            conn.execute(
                update(api_token).where(api_token.c.id == row.token_id).values(last_used=now)
            )
        return int(row.token_id), Accounts._account(row)
