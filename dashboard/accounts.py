"""Accounts, roles and server-side sessions: who may sign in and which org units they see."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from . import audit
from .catalog import Catalog, Scope
from .db import account, auth_session

# analista imports data within its scope (national unless a region is given); admin manages
# accounts and reads the audit log. publico is no account: anonymous visitors when
# DASHBOARD_PUBLIC_ACCESS=1, seeing aggregates down to districts and no facility at all.
ROLES = ("nacional", "regional", "distrital", "analista", "admin")
IMPORT_ROLES = frozenset({"analista"})  # who may import data (within their scope)
PUBLIC = Scope(frozenset({"PY"}), max_level=2)
MIN_PASSWORD = 10
# A session is touched at most this often: Dash sends several requests a second.
TOUCH_EVERY = timedelta(seconds=60)
NOBODY = Scope(frozenset())  # fail closed: a role without the unit it needs sees nothing


class AccountError(ValueError):
    """A refused account change; the message is shown to the operator as is."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    role: str
    region: str | None
    district: str | None
    disabled: bool
    created_at: datetime
    last_login: datetime | None

    @property
    def scope(self) -> Scope:
        return scope_of(self.role, self.region, self.district)


@dataclass(frozen=True)
class Principal:
    """Who the current request acts for: an account, or a print job signed by the server."""

    email: str | None
    role: str
    scope: Scope
    account_id: int | None = None
    # A print job for a user under disclosure control (the print token says so).
    restricted: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_nothing(self) -> bool:
        return not self.scope.roots


def scope_of(role: str, region: str | None, district: str | None) -> Scope:
    """The org units a role sees. A role that needs a unit and has none sees nothing."""
    if role in ("nacional", "admin"):
        return Scope.national()
    if role == "analista":
        return Scope.of(region) if region else Scope.national()
    if role == "regional":
        return Scope.of(region) if region else NOBODY
    if role == "distrital":
        return Scope.of(district) if district else NOBODY
    return NOBODY


def normalise_email(email: str) -> str:
    e = (email or "").strip().lower()
    if not e or len(e) > 254 or "@" not in e or any(c.isspace() for c in e):
        raise AccountError(f"not a valid e-mail address: '{email}'")
    return e


def check_scope(
    cat: Catalog, role: str, region: str | None, district: str | None
) -> tuple[str | None, str | None]:
    """(region, district) checked against the org-unit tree; a district implies its region."""
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}'; roles: {', '.join(ROLES)}")
    if region:
        unit = cat.unit(region)
        if unit is None or unit.level != 1:
            raise AccountError(f"unknown region '{region}'; see `python -m dashboard org-units`")
    if district:
        unit = cat.unit(district)
        if unit is None or unit.level != 2:
            raise AccountError(f"unknown district '{district}'")
        parent = cat.units[unit.parent_id].code if unit.parent_id else None
        if region and region != parent:
            raise AccountError(f"district {district} is not in region {region}")
        region = parent
    if role in ("nacional", "admin"):
        return None, None
    if role in ("regional", "analista"):
        return region, None
    return region, district


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Account and session operations on the dashboard's database. The hasher is argon2id
    (argon2-cffi defaults); tests may pass a cheaper one."""

    def __init__(
        self,
        engine: Engine,
        hasher: PasswordHasher | None = None,
        now: Callable[[], datetime] = utcnow,
    ):
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self.now = now
        # Hashed once per instance so an unknown e-mail costs as much as a wrong password.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    # --- accounts ---------------------------------------------------------------------------
    def _row(self, conn: Connection, email: str) -> Any:
        return conn.execute(select(account).where(account.c.email == email)).first()

    @staticmethod
    def _account(row: Any) -> Account:
        return Account(
            id=row.id,
            email=row.email,
            role=row.role,
            region=row.region,
            district=row.district,
            disabled=bool(row.disabled),
            created_at=row.created_at,
            last_login=row.last_login,
        )

    def get(self, email: str) -> Account | None:
        with self.engine.connect() as conn:
            row = self._row(conn, normalise_email(email))
        return self._account(row) if row else None

    def all(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(account).order_by(account.c.email)).all()
        return [self._account(r) for r in rows]

    def _check_password(self, password: str) -> None:
        if len(password or "") < MIN_PASSWORD:
            raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")

    def add(
        self,
        cat: Catalog,
        email: str,
        role: str,
        password: str,
        *,
        region: str | None = None,
        district: str | None = None,
        actor: str,
    ) -> Account:
        email = normalise_email(email)
        region, district = check_scope(cat, role, region, district)
        self._check_password(password)
        now = self.now()
        with self.engine.begin() as conn:
            if self._row(conn, email) is not None:
                raise AccountError(f"an account for {email} already exists")
            conn.execute(
                insert(account).values(
                    email=email,
                    password_hash=self.hasher.hash(password),
                    role=role,
                    region=region,
                    district=district,
                    disabled=False,
                    created_at=now,
                    updated_at=now,
                )
            )
            detail = {"email": email, "role": role, "region": region, "district": district}
            audit.record(conn, "account_add", actor, detail, at=now)
            return self._account(self._row(conn, email))

    def _change(self, email: str, values: dict, action: str, actor: str, detail: dict) -> Account:
        email = normalise_email(email)
        now = self.now()
        with self.engine.begin() as conn:
            row = self._row(conn, email)
            if row is None:
                raise AccountError(f"no account for {email}")
            conn.execute(
                update(account).where(account.c.id == row.id).values(updated_at=now, **values)
            )
            if values.keys() & {"password_hash", "disabled"}:
                # A new password or a disabled account ends every open session.
                conn.execute(delete(auth_session).where(auth_session.c.account_id == row.id))
            audit.record(conn, action, actor, {"email": email, **detail}, at=now)
            return self._account(self._row(conn, email))

    def set_disabled(self, email: str, disabled: bool, *, actor: str) -> Account:
        action = "account_disable" if disabled else "account_enable"
        return self._change(email, {"disabled": disabled}, action, actor, {})

    def set_role(
        self,
        cat: Catalog,
        email: str,
        role: str,
        *,
        region: str | None = None,
        district: str | None = None,
        actor: str,
    ) -> Account:
        region, district = check_scope(cat, role, region, district)
        values = {"role": role, "region": region, "district": district}
        return self._change(email, values, "account_set_role", actor, values)

    def set_password(self, email: str, password: str, *, actor: str) -> Account:
        self._check_password(password)
        values = {"password_hash": self.hasher.hash(password)}
        return self._change(email, values, "account_reset_password", actor, {})

    def authenticate(self, email: str, password: str) -> Account | None:
        """The account when the password is right and it is enabled; None otherwise, after
        the same amount of hashing work whatever the reason."""
        try:
            email = normalise_email(email)
        except AccountError:
            email = ""
        with self.engine.connect() as conn:
            row = self._row(conn, email) if email else None
        stored = row.password_hash if row is not None else self._dummy
        try:
            self.hasher.verify(stored, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        values: dict[str, Any] = {"last_login": self.now()}
        if self.hasher.check_needs_rehash(stored):
            values["password_hash"] = self.hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(update(account).where(account.c.id == row.id).values(**values))
        return self._account(row)

    # --- sessions ---------------------------------------------------------------------------
    def start_session(self, account_id: int) -> str:
        """A new random session token (the cookie value); only its hash is stored."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(auth_session).values(
                    token_hash=token_hash(token),
                    account_id=account_id,
                    created_at=now,
                    last_seen=now,
                )
            )
        return token

    def session_account(
        self, token: str | None, idle: timedelta, absolute: timedelta
    ) -> Account | None:
        """The enabled account behind a session token still within both lifetimes, read
        fresh on every request (a disabled account or a new role applies at once)."""
        if not token or len(token) > 200:
            return None
        key = token_hash(token)
        now = self.now()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    account, auth_session.c.created_at.label("s_created"), auth_session.c.last_seen
                )
                .join(auth_session, auth_session.c.account_id == account.c.id)
                .where(auth_session.c.token_hash == key)
            ).first()
        if row is None:
            return None
        if row.disabled or now - row.last_seen > idle or now - row.s_created > absolute:
            self.end_session(token)
            return None
        if now - row.last_seen > TOUCH_EVERY:
            with self.engine.begin() as conn:
                conn.execute(
                    update(auth_session)
                    .where(auth_session.c.token_hash == key)
                    .values(last_seen=now)
                )
        return self._account(row)

    def end_session(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(auth_session).where(auth_session.c.token_hash == token_hash(token))
                )

    def purge_sessions(self, idle: timedelta, absolute: timedelta) -> int:
        """Forget expired sessions (called at sign-in, so the table stays small)."""
        now = self.now()
        with self.engine.begin() as conn:
            res = conn.execute(
                delete(auth_session).where(
                    (auth_session.c.last_seen < now - idle)
                    | (auth_session.c.created_at < now - absolute)
                )
            )
        return res.rowcount or 0
