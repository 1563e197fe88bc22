"""Load benchmark: `gunicorn -c gunicorn.conf.py -w 2 --threads 4 dashboard.wsgi:server` on a 1x
demo, 50 simulated users replaying real page interactions, then the same while 10 PDF requests
arrive at once.

Usage:
  python benchmarks/bench_load.py [--backend sqlite postgresql] [--pg-url URL]
      [--users 50] [--duration 60] [--think 1 3] [--pdfs 10] [--user EMAIL:PASSWORD ...]

1. Builds (or reuses, --workdir) the 1x demo, runs `python -m dashboard migrate`, starts
   gunicorn on a free port.
2. Captures real traffic: headless Chromium loads every page (several filter sets) and every
   POST /_dash-update-component body it sends is recorded, in order.
3. Baseline: each user loops "open a page" = GET the page, /_dash-layout, /_dash-dependencies,
   then the page's captured callback bodies in order (and one export in ten: CSV or XLSX), then
   thinks 1-3 s. Prints requests, errors, p50/p95/p99 of every request.
4. The same again while 10 PDF requests arrive at once; prints the PDF outcomes, /healthz
   latency (polled every 100 ms while they run) and the others' p95 against the baseline.

Every simulated user and the capturing browser sign in first through the /login form (fields
email, password, csrf_token), taking the credentials in turn: those of --user (repeatable), or
else three accounts the script makes in its demo database (national, and the directors of
Concepción and Central).
Figures, not pass/fail: goals are 0 errors, p95 <= 1 s, p99 <= 2 s, /healthz < 200 ms during
PDFs, others' p95 within 2x of the baseline. The load generator shares the machine's cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
TODAY = "2026-11-29"
BOUNDARIES = ROOT / "tests" / "fixtures" / "paraguay_departments.geojson"
CHROMIUM = os.environ.get("DASHBOARD_TEST_CHROMIUM", "/usr/bin/chromium")

# Page visits whose traffic is captured: real paths and filters users open.
VISITS = [
    "/",
    "/?region=PY-11&periodo=2025Q3",
    "/?lang=en&region=PY-2",
    "/mapa",
    "/mapa?region=PY-11",
    "/mapa?vista=tiles&indicador=MNI-05",
    "/tendencias?comparar=PY-1,PY-2",
    "/tendencias?region=PY-7&escala=quarter",
    "/desempeno",
    "/desempeno?region=PY-11&tipo=USF",
    "/desempeno?region=PY-ASU&lang=en",
]


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DASHBOARD_DATABASE_URL": url,
        "DASHBOARD_TODAY": TODAY,
        "DASHBOARD_DATA_DIR": str(workdir),
        "DASHBOARD_BOUNDARIES": str(BOUNDARIES),
        # Every worker must sign the same tokens (dashboard.wsgi refuses to start without one).
        "DASHBOARD_SECRET_KEY": os.environ.get("DASHBOARD_SECRET_KEY", "bench-load-secret"),
    }


def bench_accounts(url: str) -> list[tuple[str, str]]:
    """Without --user: a mix of national and regional accounts (directors of Concepción and
    Central), made (or reset) in the benchmark's own demo database."""
    from dashboard.accounts import AccountError, Accounts
    from dashboard.db import make_engine
    from dashboard.repository import Repository

    repo = Repository(make_engine(url))
    accounts, cat = Accounts(repo.engine), repo.catalog()
    made = []
    for email, role, region in [
        ("bench-nacional@bench.local", "nacional", None),
        ("bench-concepcion@bench.local", "regional", "PY-1"),
        ("bench-central@bench.local", "regional", "PY-11"),
    ]:
        password = "bench-" + email.split("@")[0]
        try:
            accounts.add(cat, email, role, password, region=region, actor="bench")
        except AccountError:  # there from an earlier run (--workdir): same password again
            accounts.set_password(email, password, actor="bench")
        made.append((email, password))
    repo.engine.dispose()
    return made


def ensure_demo(url: str, workdir: Path, rebuild: bool) -> None:
    env = server_env(url, workdir)
    if url.startswith("sqlite:///"):
        exists = Path(url[len("sqlite:///") :]).exists()
    else:
        probe = subprocess.run(
            [PY, "-m", "dashboard", "org-units", "--level", "region", "--format", "json"],
            env=env,
            capture_output=True,
            text=True,
        )
        exists = probe.returncode == 0 and probe.stdout.strip() not in ("", "[]")
    if rebuild or not exists:
        t0 = time.perf_counter()
        subprocess.run([PY, "-m", "dashboard", "demo"], env=env, check=True, cwd=ROOT)
        print(f"  demo built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    subprocess.run(
        [PY, "-m", "dashboard", "migrate"], env=env, check=True, cwd=ROOT, capture_output=True
    )


def start_gunicorn(url: str, workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    gunicorn = str(Path(PY).with_name("gunicorn"))
    proc = subprocess.Popen(
        [
            gunicorn,
            # The production settings the README names (the /healthz-first worker).
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "dashboard.wsgi:server",
        ],
        env=server_env(url, workdir),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "gunicorn.log", "ab"),  # noqa: SIM115 - lives as long as the server
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status, _, _ = Client(port).request("GET", "/readyz")
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("gunicorn did not become ready (see gunicorn.log)")


# --- HTTP -----------------------------------------------------------------------------------


class Client:
    """One user's keep-alive connection and cookies (enough for a session cookie)."""

    def __init__(self, port: int, timeout: float = 120):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        h = {"Accept-Encoding": "gzip", **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return r.status, data, r

    def sign_in(self, email: str, password: str) -> None:
        # Uncompressed: the token is read out of the page's HTML.
        _, page, _ = self.request("GET", "/login", headers={"Accept-Encoding": "identity"})
        m = re.search(rb'name="csrf_token"[^>]*value="([^"]*)"', page) or re.search(
            rb'value="([^"]*)"[^>]*name="csrf_token"', page
        )
        form = {
            "email": email,
            "password": password,
            "csrf_token": m.group(1).decode() if m else "",
        }
        status, _, _ = self.request(
            "POST",
            "/login",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status >= 400:
            raise SystemExit(f"sign-in as {email} failed: HTTP {status}")


# --- capture --------------------------------------------------------------------------------


def capture(port: int, creds: list[tuple[str, str]]) -> dict[str, list[bytes]]:
    """Every callback body Chromium sends while opening each visit, in order."""
    from playwright.sync_api import sync_playwright

    from dashboard.report.pdf import CHROMIUM_ARGS

    base = f"http://127.0.0.1:{port}"
    out: dict[str, list[bytes]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="es-PY", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if creds:
            page.goto(base + "/login")
            page.fill("input[name=email]", creds[0][0])
            page.fill("input[name=password]", creds[0][1])
            page.locator("form").first.evaluate("f => f.submit()")
            page.wait_for_load_state("networkidle")
        bodies: list[bytes] = []
        page.on(
            "request",
            lambda r: (
                r.method == "POST"
                and r.url.endswith("/_dash-update-component")
                and bodies.append(r.post_data_buffer or b"")
            ),
        )
        for visit in VISITS:
            bodies.clear()
            page.goto(base + visit)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            page.wait_for_load_state("networkidle")
            out[visit] = list(bodies)
        browser.close()
    return out


# --- users ----------------------------------------------------------------------------------


@dataclass
class Results:
    samples: list[tuple[str, float, int]] = field(default_factory=list)  # kind, seconds, status
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.samples.append((kind, seconds, status))
            if status >= 400:
                self.errors.append(f"{kind} HTTP {status}")


def user(
    port: int,
    traffic: dict[str, list[bytes]],
    stop: threading.Event,
    results: Results,
    seed: int,
    think: tuple[float, float],
    cred: tuple[str, str] | None,
) -> None:
    rng = random.Random(seed)
    client = Client(port)
    if cred:
        client.sign_in(*cred)
    time.sleep(rng.uniform(0, think[1]))  # users arrive spread out, not in one burst
    json_headers = {"Content-Type": "application/json"}
    while not stop.is_set():
        visit = rng.choice(list(traffic))
        steps: list[tuple[str, str, str, bytes | None]] = [
            ("page", "GET", visit, None),
            ("layout", "GET", "/_dash-layout", None),
            ("dependencies", "GET", "/_dash-dependencies", None),
        ]
        steps += [("callback", "POST", "/_dash-update-component", b) for b in traffic[visit]]
        if rng.random() < 0.1:
            fmt = rng.choice(["csv", "xlsx"])
            query = urlsplit(visit).query
            page = {"": "resumen", "mapa": "mapa", "tendencias": "tendencias"}.get(
                urlsplit(visit).path.strip("/"), "desempeno"
            )
            steps.append(("export", "GET", f"/exportar.{fmt}?pagina={page}&{query}", None))
        for kind, method, path, body in steps:
            if stop.is_set():
                return
            t0 = time.perf_counter()
            try:
                status, _, _ = client.request(
                    method, path, body, json_headers if body is not None else None
                )
            except Exception as exc:
                with results.lock:
                    results.errors.append(f"{kind} {type(exc).__name__}: {exc}")
                client = Client(port) if not cred else client
                continue
            results.add(kind, time.perf_counter() - t0, status)
        stop.wait(rng.uniform(*think))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def summary(results: Results) -> dict:
    times = [s for _, s, _ in results.samples]
    return {
        "requests": len(times),
        "errors": len(results.errors),
        "p50_ms": round(pct(times, 50) * 1000),
        "p95_ms": round(pct(times, 95) * 1000),
        "p99_ms": round(pct(times, 99) * 1000),
        "by_kind_p95_ms": {
            k: round(pct([s for kk, s, _ in results.samples if kk == k], 95) * 1000)
            for k in sorted({k for k, _, _ in results.samples})
        },
        "first_errors": results.errors[:5],
    }


def run_phase(args, port, traffic, creds, pdfs: int) -> dict:
    results = Results()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=user,
            args=(
                port,
                traffic,
                stop,
                results,
                i,
                tuple(args.think),
                creds[i % len(creds)] if creds else None,
            ),
            daemon=True,
        )
        for i in range(args.users)
    ]
    for th in threads:
        th.start()
    extra: dict = {}
    if pdfs:
        time.sleep(args.duration / 4)  # a settled load first
        extra = pdf_burst(port, pdfs, creds, results)
        remaining = args.duration * 3 / 4 - extra["pdf_window_s"]
        time.sleep(max(0, remaining))
    else:
        time.sleep(args.duration)
    stop.set()
    for th in threads:
        th.join(130)
    # Only the window while PDFs ran says whether they starve the others.
    return {**summary(results), **extra}


def pdf_burst(port, n, creds, results: Results) -> dict:
    outcomes: list[tuple[int, float]] = []
    lock = threading.Lock()
    # The requesters are users already signed in: their sign-ins (a password hash each, on the
    # workers' threads) come before the window, which measures the PDFs alone.
    clients = [Client(port, timeout=180) for _ in range(n)]
    if creds:
        for i, c in enumerate(clients):
            c.sign_in(*creds[i % len(creds)])
    mark = len(results.samples)

    def one(i):
        c = clients[i]
        page = ["resumen", "mapa", "tendencias", "desempeno"][i % 4]
        t0 = time.perf_counter()
        try:
            status, _, _ = c.request("GET", f"/exportar.pdf?pagina={page}")
        except Exception:
            status = 599
        with lock:
            outcomes.append((status, time.perf_counter() - t0))

    health: list[float] = []
    done = threading.Event()

    def poll():
        c = Client(port, timeout=30)
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                c.request("GET", "/healthz")
                health.append(time.perf_counter() - t0)
            except Exception:
                # A timed-out connection is unusable: a new one, or every later poll would fail
                # at once and count as another 30 s.
                health.append(max(30.0, time.perf_counter() - t0))
                c = Client(port, timeout=30)
            done.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    window = time.perf_counter() - t0
    done.set()
    poller.join(5)
    with results.lock:
        during = [s for _, s, _ in results.samples[mark:]]
    codes: dict[int, int] = {}
    for status, _ in outcomes:
        codes[status] = codes.get(status, 0) + 1
    ok = [s for status, s in outcomes if status == 200]
    return {
        "pdf_window_s": round(window, 1),
        "pdf_status_counts": codes,
        "pdf_ok_median_s": round(statistics.median(ok), 1) if ok else None,
        "healthz_during_pdfs_ms": {
            "n": len(health),
            "p50": round(pct(health, 50) * 1000),
            "p95": round(pct(health, 95) * 1000),
            "max": round(max(health) * 1000) if health else None,
        },
        "others_during_pdfs": {
            "requests": len(during),
            "p95_ms": round(pct(during, 95) * 1000),
            "p99_ms": round(pct(during, 99) * 1000),
        },
    }


def bench_backend(args, backend: str, creds) -> dict:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'load_1x.sqlite3'}"
    else:
        if not args.pg_url:
            raise SystemExit("--pg-url is needed for postgresql")
        url = args.pg_url
    print(f"[{backend}] demo and migrate", file=sys.stderr)
    ensure_demo(url, workdir, args.rebuild)
    creds = creds or bench_accounts(url)
    proc, port = start_gunicorn(url, workdir)
    try:
        print(f"[{backend}] capturing page traffic", file=sys.stderr)
        traffic = capture(port, creds)
        n_bodies = sum(len(v) for v in traffic.values())
        print(f"[{backend}] baseline: {args.users} users, {args.duration} s", file=sys.stderr)
        base = run_phase(args, port, traffic, creds, 0)
        print(f"[{backend}] with {args.pdfs} PDFs at once", file=sys.stderr)
        loaded = run_phase(args, port, traffic, creds, args.pdfs)
        ratio = loaded["others_during_pdfs"]["p95_ms"] / max(1, base["p95_ms"])
        return {
            "backend": backend,
            "captured_callback_bodies": n_bodies,
            "baseline": base,
            "with_pdfs": loaded,
            "others_p95_during_pdfs_vs_baseline": round(ratio, 2),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"])
    p.add_argument("--pg-url", default=os.environ.get("DASHBOARD_BENCH_PG_URL"))
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0])
    p.add_argument("--pdfs", type=int, default=10)
    p.add_argument(
        "--user", action="append", default=[], metavar="EMAIL:PASSWORD", help="sign in as"
    )
    p.add_argument("--workdir", help="keep and reuse the demo database here")
    p.add_argument("--rebuild", action="store_true", help="rebuild the demo even if present")
    args = p.parse_args(argv)
    creds = [tuple(u.split(":", 1)) for u in args.user]
    out = [bench_backend(args, b, creds) for b in args.backend]
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
