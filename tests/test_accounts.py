"""Accounts: roles and their scope, argon2 hashes, sessions, the CLI and the audit lines it leaves."""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from dashboard import audit
from dashboard.accounts import NOBODY, AccountError, Accounts, scope_of
from dashboard.catalog import Scope

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PW = "correct horse battery"


class Clock:
    def __init__(self):
        self.t = datetime(2026, 11, 30, 8, 0)

    def __call__(self):
        return self.t


@pytest.fixture
def accounts(repo):
    return Accounts(repo.engine, hasher=FAST, now=Clock())


def test_scope_of_each_role():
    assert scope_of("nacional", None, None) == Scope.national()
    assert scope_of("admin", None, None) == Scope.national()
    assert scope_of("regional", "PY-1", None) == Scope.of("PY-1")
    assert scope_of("distrital", "PY-1", "0101") == Scope.of("0101")
    assert scope_of("analista", None, None) == Scope.national()
    assert scope_of("analista", "PY-2", None) == Scope.of("PY-2")


def test_scope_of_role_without_its_unit_sees_nothing():
    assert scope_of("regional", None, None) == NOBODY
    assert scope_of("distrital", "PY-1", None) == NOBODY
    assert scope_of("unknown", "PY-1", "0101") == NOBODY


def test_accounts_password_is_stored_as_argon2_hash(accounts, repo):
    accounts.add(repo.catalog(), "Ana@Example.org", "nacional", PW, actor="t")
    with repo.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT email, password_hash FROM account").one()
    assert stored[0] == "ana@example.org"
    assert stored[1].startswith("$argon2id$") and PW not in stored[1]


def test_accounts_authenticate_refuses_wrong_unknown_and_disabled(accounts, repo):
    accounts.add(repo.catalog(), "ana@example.org", "nacional", PW, actor="t")
    assert accounts.authenticate("ANA@example.org ", PW).email == "ana@example.org"
    assert accounts.authenticate("ana@example.org", PW + "x") is None
    assert accounts.authenticate("nobody@example.org", PW) is None
    assert accounts.authenticate("not an email", PW) is None
    accounts.set_disabled("ana@example.org", True, actor="t")
    assert accounts.authenticate("ana@example.org", PW) is None


def test_accounts_check_units_against_the_tree(accounts, repo):
    cat = repo.catalog()
    with pytest.raises(AccountError, match="unknown region"):
        accounts.add(cat, "a@x.org", "regional", PW, region="PY-99", actor="t")
    with pytest.raises(AccountError, match="not in region"):
        accounts.add(cat, "a@x.org", "distrital", PW, region="PY-2", district="0101", actor="t")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.add(cat, "a@x.org", "root", PW, actor="t")
    with pytest.raises(AccountError, match="at least"):
        accounts.add(cat, "a@x.org", "nacional", "short", actor="t")
    d = accounts.add(cat, "d@x.org", "distrital", PW, district="0101", actor="t")
    assert (d.region, d.district, d.scope) == ("PY-1", "0101", Scope.of("0101"))
    with pytest.raises(AccountError, match="already exists"):
        accounts.add(cat, "D@x.org", "nacional", PW, actor="t")


def test_sessions_follow_idle_and_absolute_lifetimes(accounts, repo):
    a = accounts.add(repo.catalog(), "a@x.org", "regional", PW, region="PY-1", actor="t")
    idle, absolute = timedelta(minutes=30), timedelta(hours=8)
    token = accounts.start_session(a.id)
    assert accounts.session_account(token, idle, absolute).email == "a@x.org"
    assert accounts.session_account(token + "x", idle, absolute) is None
    assert accounts.session_account(None, idle, absolute) is None
    for _ in range(20):  # active all along: the idle limit never bites, the absolute one does
        accounts.now.t += timedelta(minutes=25)
        if accounts.session_account(token, idle, absolute) is None:
            break
    assert accounts.now.t - datetime(2026, 11, 30, 8, 0) > absolute - timedelta(minutes=30)
    assert accounts.session_account(token, idle, absolute) is None
    token = accounts.start_session(a.id)
    accounts.now.t += timedelta(minutes=31)
    assert accounts.session_account(token, idle, absolute) is None


def test_sessions_see_role_change_and_disable_at_once(accounts, repo):
    cat = repo.catalog()
    a = accounts.add(cat, "a@x.org", "regional", PW, region="PY-1", actor="t")
    token = accounts.start_session(a.id)
    lifetimes = (timedelta(hours=1), timedelta(hours=8))
    accounts.set_role(cat, "a@x.org", "regional", region="PY-2", actor="t")
    assert accounts.session_account(token, *lifetimes).scope == Scope.of("PY-2")
    accounts.set_disabled("a@x.org", True, actor="t")
    assert accounts.session_account(token, *lifetimes) is None


def test_account_changes_are_audited_without_passwords(accounts, repo):
    cat = repo.catalog()
    accounts.add(cat, "a@x.org", "nacional", PW, actor="admin@x.org")
    accounts.set_password("a@x.org", PW + "2", actor="admin@x.org")
    accounts.set_role(cat, "a@x.org", "regional", region="PY-1", actor="admin@x.org")
    log = audit.entries(repo.engine)
    assert [e.action for e in log][::-1] == [
        "account_add",
        "account_reset_password",
        "account_set_role",
    ]
    assert all(e.actor == "admin@x.org" and e.detail["email"] == "a@x.org" for e in log)
    assert not any(PW in str(e.detail) for e in log)


def _cli(monkeypatch, capsys, repo, *argv, stdin=""):
    from dashboard.__main__ import main

    monkeypatch.setenv("DASHBOARD_DATABASE_URL", str(repo.engine.url.render_as_string(False)))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_users_add_list_set_role_disable_and_audit(monkeypatch, capsys, repo):
    code, out, _ = _cli(
        monkeypatch,
        capsys,
        repo,
        "users",
        "add",
        "dir@x.org",
        "--role",
        "regional",
        "--region",
        "PY-1",
        "--password-stdin",
        stdin=PW + "\n",
    )
    assert code == 0 and "PY-1" in out and PW not in out
    code, out, _ = _cli(monkeypatch, capsys, repo, "users", "add", "n@x.org", "--role", "nacional")
    assert code == 0 and "password (shown once): " in out
    generated = out.split("password (shown once): ")[1].strip()
    assert Accounts(repo.engine).authenticate("n@x.org", generated) is not None
    code, _, err = _cli(monkeypatch, capsys, repo, "users", "add", "r@x.org", "--role", "regional")
    assert code == 0 and "sees nothing" in err
    code, _, err = _cli(
        monkeypatch,
        capsys,
        repo,
        "users",
        "set-role",
        "dir@x.org",
        "distrital",
        "--district",
        "9999",
    )
    assert code == 2 and "unknown district" in err
    assert _cli(monkeypatch, capsys, repo, "users", "disable", "n@x.org")[0] == 0
    code, out, _ = _cli(monkeypatch, capsys, repo, "users", "list", "--format", "json")
    import json

    rows = {r["email"]: r for r in json.loads(out)}
    assert rows["n@x.org"]["status"] == "disabled" and rows["dir@x.org"]["scope"] == "PY-1"
    assert rows["r@x.org"]["scope"] == "(none)"
    code, out, _ = _cli(monkeypatch, capsys, repo, "audit", "--format", "json")
    actions = [r["action"] for r in json.loads(out)]
    assert actions.count("account_add") == 3 and "account_disable" in actions
    code, out, _ = _cli(
        monkeypatch, capsys, repo, "audit", "--since", "2999-01-01", "--format", "json"
    )
    assert json.loads(out) == []
    assert _cli(monkeypatch, capsys, repo, "audit", "--since", "yesterday")[0] == 2


def test_cli_import_is_audited_with_file_hash_counts_and_outcome(
    monkeypatch, capsys, repo, tmp_path
):
    import hashlib
    import json

    from helpers import add_facilities

    add_facilities(repo, [("E010001", "USF", "0101")])
    good = tmp_path / "values.csv"
    good.write_text("data_element,period,org_unit,value\nPENTA3,202409,E010001,12\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("data_element,period,org_unit,value\nPENTA3,202409,NOPE,12\n")
    monkeypatch.setenv("DASHBOARD_TODAY", "2026-11-29")
    assert _cli(monkeypatch, capsys, repo, "import", str(good))[0] == 0
    assert _cli(monkeypatch, capsys, repo, "import", str(bad))[0] == 1
    assert _cli(monkeypatch, capsys, repo, "import", "--dry-run", str(good))[0] == 0
    code, out, _ = _cli(monkeypatch, capsys, repo, "audit", "--format", "json")
    rows = [r for r in json.loads(out) if r["action"] == "import"]
    assert len(rows) == 2  # a dry run writes nothing, so it is not an import
    rejected, ok = (json.loads(r["detail"]) for r in rows)
    assert ok["sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()
    assert (ok["outcome"], ok["inserted"], ok["file"]) == ("ok", 1, "values.csv")
    assert rejected["outcome"] == "rejected" and rejected["problems"] >= 1
    assert rows[0]["actor"].startswith("cli")


def test_demo_accounts_are_created_once_and_printed_every_time(monkeypatch, capsys, repo, tmp_path):
    import json

    from dashboard.__main__ import DEMO_ACCOUNTS, _ensure_demo_accounts
    from dashboard.config import Settings

    settings = Settings(database_url=repo.engine.url.render_as_string(False), data_dir=tmp_path)
    _ensure_demo_accounts(settings)
    first = capsys.readouterr().out
    saved = json.loads((tmp_path / "demo-accounts.json").read_text())
    assert (tmp_path / "demo-accounts.json").stat().st_mode & 0o777 == 0o600
    _ensure_demo_accounts(settings)
    assert capsys.readouterr().out == first  # the same accounts and passwords, not new ones
    accounts = Accounts(repo.engine)
    for email, role, region in DEMO_ACCOUNTS:
        assert email in first and saved[email] in first
        a = accounts.authenticate(email, saved[email])
        assert (a.role, a.region) == (role, region)
    assert accounts.get("director.concepcion@demo.local").scope == Scope.of("PY-1")


def test_make_limiter_uses_redis_when_configured():
    from dashboard.ratelimit import MemoryLimiter, RedisLimiter, make_limiter

    assert isinstance(make_limiter(None), MemoryLimiter)
    assert isinstance(make_limiter("redis://127.0.0.1:6379/3"), RedisLimiter)
