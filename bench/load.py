#!/usr/bin/env python3
"""`just bench-load`: the release binaries under load, with their floors.

Builds edge, tasks, auth-verify and the floors' examples in release mode,
creates a fresh PostgreSQL database (dropped at the end), starts tasks and
the edge on free ports, seeds users and tasks, and measures with wrk:

- list, get, create, toggle and a 401 for a malformed token, HS256 tokens;
- list and 401 with EdDSA tokens checked against a local JWKS (jwks mode);
- list and 401 verified remotely by auth-verify (AUTH_VERIFY_URL);
- list and 401 with the edge at RUST_LOG=warn: what the per-request log costs;
- the floors, in the same run: the list's SELECT through pgbench on the same
  database, and a bare axum handler answering 401, each measured in turns
  with the figures compared to it (a round of the floor right before each
  round of the figure; the ratio is the median of the rounds' ratios), since
  a shared machine's load drifts during a run;
- the list's architecture floors (group `floor`): the least code doing the
  same two hops (`bare-list-edge`: bare axum → one HTTP/2 channel →
  `bare-list-tasks`: bare tonic → the same prepared SELECT through sqlx; the
  same proto and JSON), and one hop (`bare-list-tasks --http`: bare axum +
  sqlx), each in turns with pgbench, and the edge's list in turns with the
  two-hop floor;
- comparators (bench/comparators.py): the same list and 401 in the seed's
  design (FastAPI + PyJWT + SQLAlchemy) and in plain Node, in turns with
  the edge;
- scaling: 1, 2 and 3 tasks replicas; 20, 200 and 1000 tasks per user;
- peak RSS (VmHWM) of the edge and each tasks process.

Each figure is the median of BENCH_ROUNDS runs of BENCH_SECS seconds. It
prints a Markdown table and writes it (and the raw figures as JSON) to
bench/results/. Settings (environment):

  BENCH_SECS=10 BENCH_ROUNDS=2 BENCH_CONNECTIONS=32 BENCH_THREADS=1
  BENCH_USERS=32              users per data set (tokens rotate per request)
  BENCH_ONLY=                 comma list of groups: hs256,eddsa,remote,quiet,compare,floor,sizes,replicas
  BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres   (admin URL)
  BENCH_SKIP_BUILD=1          use the release binaries already built
  BENCH_BIN_DIR=              take the binaries from there (a kept baseline)
  BENCH_OUT=bench/results     where the results go

Needs wrk, pgbench and psql (`apt-get install wrk postgresql-client
postgresql-contrib`) and Python's `cryptography` (EdDSA tokens).
Numbers from a shared machine are noisy: quote medians and ratios to the
floors measured in the same run, never absolute figures alone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import comparators

ROOT = Path(__file__).resolve().parent.parent
# BENCH_BIN_DIR: binaries built elsewhere (e.g. a baseline kept for a
# before/after comparison); implies BENCH_SKIP_BUILD.
RELEASE = Path(os.environ.get("BENCH_BIN_DIR") or ROOT / "target" / "release")
ISSUER = "http://localhost:3000"
SIZES = (20, 200, 1000)
# The floors' programs (crates/edge/examples, crates/tasks/examples).
FLOOR_EXAMPLES = ("bare-401", "bare-list-edge", "bare-list-tasks")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


SECS = env_int("BENCH_SECS", 10)
ROUNDS = env_int("BENCH_ROUNDS", 2)
CONNECTIONS = env_int("BENCH_CONNECTIONS", 32)
THREADS = env_int("BENCH_THREADS", 1)
USERS = env_int("BENCH_USERS", 32)
ONLY = {g for g in os.environ.get("BENCH_ONLY", "").split(",") if g.strip()}
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "results"))


def wanted(group: str) -> bool:
    return not ONLY or group in ONLY


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- tokens


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(user: str) -> dict:
    now = int(time.time())
    return {"sub": user, "iss": ISSUER, "aud": ISSUER, "iat": now, "exp": now + 900}


def hs256(secret: str, user: str) -> str:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims(user)).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


class Ed25519Keys:
    """An Ed25519 key, its JWKS, and EdDSA tokens shaped like Better Auth's."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.kid = "bench-" + secrets.token_hex(4)
        self.jwks = json.dumps(
            {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(raw), "alg": "EdDSA", "kid": self.kid}]}
        ).encode()

    def token(self, user: str) -> str:
        head = b64(json.dumps({"alg": "EdDSA", "kid": self.kid}).encode())
        body = b64(json.dumps(claims(user)).encode())
        return f"{head}.{body}.{b64(self.key.sign(f'{head}.{body}'.encode()))}"


def serve_jwks(document: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/api/auth/jwks"


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    peak_kib: int = 0

    def sample_rss(self) -> int:
        """Peak resident set (VmHWM) in KiB, as the kernel counts it."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kib = max(self.peak_kib, int(line.split()[1]))
        return self.peak_kib

    def stop(self) -> None:
        self.sample_rss()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


class Stack:
    def __init__(self, workdir: Path, database_url: str, wrapper: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.wrapper = wrapper or []  # e.g. valgrind, for bench/profile.py
        self.env = env or {}
        self.database_url = database_url
        self.secret = secrets.token_urlsafe(48)
        self.internal = secrets.token_urlsafe(48)
        self.procs: list[Proc] = []
        self.peaks: dict[str, int] = {}

    def start(self, name: str, binary: str, env: dict[str, str]) -> Proc:
        logfile = open(self.workdir / f"{name}.log", "ab")
        full = {
            "PATH": os.environ.get("PATH", ""),
            "RUST_LOG": os.environ.get("RUST_LOG", "info"),
            "BETTER_AUTH_URL": ISSUER,
            **self.env,
            **env,
        }
        wrapper = [arg.replace("{name}", name) for arg in self.wrapper]
        popen = subprocess.Popen([*wrapper, str(RELEASE / binary)], env=full, stdout=logfile, stderr=logfile)
        proc = Proc(name, popen)
        self.procs.append(proc)
        return proc

    def tasks(self, name: str) -> str:
        port = free_port()
        self.start(
            name,
            "tasks",
            {
                "DATABASE_URL": self.database_url,
                "INTERNAL_AUTH_SECRET": self.internal,
                "TASKS_LISTEN_ADDR": f"127.0.0.1:{port}",
            },
        )
        wait_logged(self.workdir / f"{name}.log", "tasks listening", self.procs[-1])
        return f"http://127.0.0.1:{port}"

    def edge(self, tasks_urls: list[str], extra: dict[str, str]) -> str:
        port = free_port()
        env = {
            "TASKS_URL": ",".join(tasks_urls),
            "INTERNAL_AUTH_SECRET": self.internal,
            "EDGE_LISTEN_ADDR": f"127.0.0.1:{port}",
            "BETTER_AUTH_SECRET": self.secret,
            **extra,
        }
        self.start("edge", "edge", env)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url + "/readyz", self.procs[-1])
        return url

    def auth_verify(self, extra: dict[str, str]) -> str:
        port = free_port()
        self.start(
            "auth-verify",
            "auth-verify",
            {"AUTH_VERIFY_LISTEN_ADDR": f"127.0.0.1:{port}", "BETTER_AUTH_SECRET": self.secret, **extra},
        )
        return f"http://127.0.0.1:{port}"

    def stop(self, prefix: str) -> None:
        for proc in [p for p in self.procs if p.name.startswith(prefix)]:
            proc.stop()
            kind = "tasks" if proc.name.startswith("tasks") else proc.name
            self.peaks[kind] = max(self.peaks.get(kind, 0), proc.peak_kib)
            self.procs.remove(proc)

    def sample(self) -> None:
        for proc in self.procs:
            proc.sample_rss()

    def stop_all(self) -> None:
        self.stop("")


def wait_ready(url: str, proc: Proc, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.name} exited with {proc.popen.returncode}; see its log")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
            with urllib.request.urlopen(url, timeout=30) as reply:
                if reply.status == 200:
                    return
        time.sleep(0.1)
    raise SystemExit(f"{url} not ready after {timeout} s")


def wait_logged(path: Path, text: str, proc: Proc, timeout: float = 600, count: int = 1) -> None:
    """Waits until `proc` has logged `text` (tasks: migrated and serving),
    `count` times (one line per worker of a comparator)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.name} exited with {proc.popen.returncode}; see {path}")
        if path.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.1)
    raise SystemExit(f"{proc.name} did not log {text!r} within {timeout} s")


# ---------------------------------------------------------------- database


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def db_url(name: str) -> str:
    """The benchmark database's URL, without TLS for every client (tasks,
    pgbench, the floors, the comparators): PostgreSQL here offers TLS, and
    sqlx and libpq take it by default (`sslmode=prefer`) where Node's `pg`
    does not, so one client would pay for encryption on loopback that
    another skips."""
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}?sslmode=disable"


def seed(url: str) -> dict[str, list[tuple[str, int]]]:
    """USERS users per size (`s20-0`…), each with that many tasks; returns
    each data set's users with the id of their first task."""
    for size in SIZES:
        psql(
            url,
            f"""INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at)
            SELECT 's{size}-' || u, 'Task ' || i || ' of a benchmark user',
                   CASE WHEN i % 3 = 0 THEN 'a description of a few words' END,
                   i % 4 = 0, now(), now()
            FROM generate_series(0, {USERS - 1}) u, generate_series(1, {size}) i""",
        )
    psql(url, "ANALYZE tasks")
    rows = psql(url, "SELECT user_id, min(id) FROM tasks GROUP BY user_id ORDER BY user_id")
    sets: dict[str, list[tuple[str, int]]] = {}
    for line in rows.split():
        user, first = line.split("|")
        sets.setdefault(user.split("-")[0], []).append((user, int(first)))
    return sets


# ---------------------------------------------------------------- load


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    rounds: list[float] = field(default_factory=list)
    errors: int = 0  # unexpected statuses and socket errors, all rounds
    ratio: float | None = None  # to `floor`, measured in turns with it
    floor: str = ""


LUA = """
local entries = {%(entries)s}
local i = 0
request = function()
  i = i %% #entries + 1
  local e = entries[i]
  return wrk.format("%(method)s", e[1], {["Authorization"] = e[2], ["Content-Type"] = "application/json"}, %(body)s)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


class Floor:
    """A floor measured in turns with the figures compared to it: one round
    of the floor right before each round of a figure, so that both see the
    same machine (it is shared, and its load drifts), and the ratio is the
    median of the rounds' ratios."""

    def __init__(self, name: str, round_: "Callable[[int], tuple[float, float, float]]") -> None:
        self.name = name
        self.run_round = round_
        self.rounds: list[tuple[float, float, float]] = []

    def round(self) -> float:
        measured = self.run_round(len(self.rounds))
        self.rounds.append(measured)
        return measured[0]

    def result(self) -> Result:
        rps, p50, p99 = (statistics.median(r[i] for r in self.rounds) for i in range(3))
        return Result(self.name, rps, p50, p99, [r[0] for r in self.rounds])


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for our ASCII


def wrk_script(name: str, entries: list[tuple[str, str]], method: str, body: str | None, workdir: Path) -> Path:
    script = workdir / f"{name}.lua"
    script.write_text(
        LUA
        % {
            "entries": ",".join(f"{{{lua_string(p)}, {lua_string(a)}}}" for p, a in entries),
            "method": method,
            "body": "nil" if body is None else lua_string(body),
        }
    )
    return script


def wrk_round(name: str, base: str, script: Path, expect_status_errors: bool,
              workdir: Path) -> tuple[float, float, float, int]:
    """One wrk run: req/s, p50 and p99 in ms, and the unexpected answers."""
    done = subprocess.run(
        ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{SECS}s", "--timeout", "10s",
         "-s", str(script), base],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout)
    if not match:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    requests, duration_us, p50_us, p99_us, status_errors, socket_errors = map(int, match.groups())
    # wrk counts every status >= 400 as an error: in a 401 scenario, all.
    unexpected = (requests - status_errors if expect_status_errors else status_errors) + socket_errors
    if unexpected > requests / 100:
        raise SystemExit(
            f"{name}: {requests} requests, {unexpected} unexpected statuses or socket errors "
            f"(see the services' logs in {workdir})"
        )
    return requests / (duration_us / 1e6), p50_us / 1000, p99_us / 1000, unexpected


def wrk(name: str, base: str, entries: list[tuple[str, str]], method: str = "GET",
        body: str | None = None, expect_status_errors: bool = False, workdir: Path = Path("."),
        floor: Floor | None = None) -> Result:
    script = wrk_script(name, entries, method, body, workdir)
    rps, p50, p99, ratios, errors = [], [], [], [], 0
    for _ in range(ROUNDS):
        floor_rps = floor.round() if floor else 0.0
        r, p, q, e = wrk_round(name, base, script, expect_status_errors, workdir)
        rps.append(r)
        p50.append(p)
        p99.append(q)
        errors += e
        if floor:
            ratios.append(r / floor_rps)
    result = Result(name, statistics.median(rps), statistics.median(p50), statistics.median(p99), rps, errors,
                    statistics.median(ratios) if floor else None, floor.name if floor else "")
    log(f"  {name}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
        + (f", {result.ratio:.0%} of {result.floor}" if floor else "")
        + (f", {errors} errors" if errors else ""))
    return result


def pgbench_floor(name: str, url: str, limit: int, prefix: str, workdir: Path) -> Floor:
    """The list's SELECT, as tasks sends it (crates/tasks/src/repo/reads.rs,
    prepared), USERS users in turn."""
    script = workdir / f"{name}.sql"
    script.write_text(
        f"\\set u random(0, {USERS - 1})\n"
        "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks "
        f"WHERE user_id = '{prefix}-' || :u ORDER BY id LIMIT {limit} OFFSET 0;\n"
    )

    def round_(number: int) -> tuple[float, float, float]:
        logdir = workdir / f"{name}-{number}"
        logdir.mkdir()
        done = subprocess.run(
            ["pgbench", "-n", "-M", "prepared", "-c", str(CONNECTIONS), "-j", str(THREADS), "-T", str(SECS),
             "-f", str(script), "-l", "--log-prefix", str(logdir / "log"), url],
            check=True,
            capture_output=True,
            text=True,
        )
        match = re.search(r"tps = ([\d.]+)", done.stdout)
        if not match:
            raise SystemExit(f"pgbench said:\n{done.stdout}\n{done.stderr}")
        latencies = sorted(
            int(line.split()[2]) for log_file in logdir.iterdir() for line in log_file.read_text().splitlines()
        )
        shutil.rmtree(logdir)
        return float(match.group(1)), latencies[len(latencies) // 2] / 1000, latencies[int(len(latencies) * 0.99)] / 1000

    return Floor(name, round_)


def wrk_floor(name: str, base: str, entries: list[tuple[str, str]], refused: bool, workdir: Path) -> Floor:
    """A floor whose rounds are wrk runs of GET `entries` against `base`."""
    script = wrk_script(name, entries, "GET", None, workdir)
    return Floor(name, lambda _number: wrk_round(name, base, script, refused, workdir)[:3])


def start_example(example: str, args: list[str], workdir: Path, name: str = "",
                  wrapper: list[str] | None = None) -> tuple[Proc, str]:
    """Starts a release example (its log: `name`.log, `name` defaulting to
    the example's) and returns it with its URL: each prints the address it
    listens on, once ready, as its first line. `{name}` in `wrapper` (e.g.
    valgrind's arguments) becomes `name`."""
    name = name or example
    wrapper = [arg.replace("{name}", name) for arg in wrapper or []]
    with open(workdir / f"{name}.log", "ab") as logfile:
        popen = subprocess.Popen([*wrapper, str(RELEASE / "examples" / example), *args],
                                 stdout=subprocess.PIPE, stderr=logfile, text=True)
    proc = Proc(name, popen)
    assert popen.stdout is not None
    address = popen.stdout.readline().strip()
    if not address:
        proc.stop()
        raise SystemExit(f"{example} exited with {popen.returncode}; see {workdir / name}.log")
    return proc, f"http://{address}"


def bare_401_floor(workdir: Path, procs: list[Proc]) -> Floor:
    """A bare axum handler answering 401, started once and kept running."""
    proc, base = start_example("bare-401", ["127.0.0.1:0"], workdir)
    procs.append(proc)
    return wrk_floor("bare axum 401", base, [("/api/x/tasks", "Bearer x")], True, workdir)


def list_floors(url: str, workdir: Path, procs: list[Proc]) -> tuple[str, str]:
    """Starts the list's architecture floors, each into `procs` once it
    runs, and returns their URLs: the two-hop one (`bare-list-edge` →
    gRPC → `bare-list-tasks` → sqlx) and the one-hop one (`bare-list-tasks
    --http`: axum + sqlx)."""
    def start(example: str, args: list[str], name: str = "") -> str:
        proc, base = start_example(example, args, workdir, name)
        procs.append(proc)
        return base

    grpc = start("bare-list-tasks", [url, "127.0.0.1:0"])
    two_hops = start("bare-list-edge", [grpc, "127.0.0.1:0"])
    one_hop = start("bare-list-tasks", [url, "127.0.0.1:0", "--http"], "bare-list-direct")
    return two_hops, one_hop


# ---------------------------------------------------------------- the run


def build() -> None:
    if os.environ.get("BENCH_SKIP_BUILD") or os.environ.get("BENCH_BIN_DIR"):
        return
    log("building release binaries…")
    # Two runs: an example brings its crate's dev-dependencies (and their
    # features), which must not change the binaries being measured.
    for targets in (["-p", "edge", "-p", "tasks", "-p", "auth-verify", "--bin", "edge", "--bin", "tasks",
                     "--bin", "auth-verify"],
                    ["-p", "edge", "-p", "tasks", *(f"--example={e}" for e in FLOOR_EXAMPLES)]):
        subprocess.run(["cargo", "build", "--release", "--locked", *targets], check=True, cwd=ROOT)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} × {cpu}{mem}, Linux {platform.release()}"


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def stop_on_signals() -> None:
    """SIGTERM and SIGINT (even when the shell started us ignoring it) end
    the run through its `finally`: services stopped, database dropped."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: sys.exit(128 + number))


def main() -> int:
    stop_on_signals()
    for tool in ("wrk", "pgbench", "psql"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install wrk postgresql-client postgresql-contrib")
    build()
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    name = f"bench_{int(time.time())}_{os.getpid()}"
    url = db_url(name)
    load_before = loadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    psql(ADMIN_URL, f'CREATE DATABASE "{name}"')
    stack = Stack(workdir, url)
    results: dict[str, Result] = {}
    floors: list[Floor] = []
    floor_procs: list[Proc] = []

    def add(result: Result) -> None:
        results[result.name] = result

    try:
        tasks1 = stack.tasks("tasks-1")
        edge = stack.edge([tasks1], {})  # ready once tasks has migrated
        sets = seed(url)
        s20 = sets["s20"]
        bad = [(f"/api/{u}/tasks", "Bearer not.a-valid.token") for u, _ in s20]

        def tokens(mint) -> dict[str, str]:
            return {u: "Bearer " + mint(u) for u, _ in s20}

        # Each floor runs one round right before each round of a figure
        # compared to it (their rows: the median of all those rounds).
        select20 = pgbench_floor("pgbench SELECT (20 rows)", url, 100, "s20", workdir)
        bare = bare_401_floor(workdir, floor_procs)
        floors += [select20, bare]
        if wanted("hs256"):
            log("HS256, in-process verification")
            auth = tokens(lambda u: hs256(stack.secret, u))
            add(wrk("list (HS256)", edge, [(f"/api/{u}/tasks", auth[u]) for u, _ in s20], workdir=workdir,
                    floor=select20))
            add(wrk("get (HS256)", edge, [(f"/api/{u}/tasks/{t}", auth[u]) for u, t in s20], workdir=workdir))
            add(wrk("toggle (HS256)", edge, [(f"/api/{u}/tasks/{t}/complete", auth[u]) for u, t in s20],
                    method="PATCH", workdir=workdir))
            creators = [f"c-{i}" for i in range(USERS)]
            add(wrk("create (HS256)", edge,
                    [(f"/api/{u}/tasks", "Bearer " + hs256(stack.secret, u)) for u in creators],
                    method="POST", body='{"title":"a task from the benchmark"}', workdir=workdir))
            add(wrk("401 malformed (HS256)", edge, bad, expect_status_errors=True, workdir=workdir, floor=bare))
        stack.sample()

        if wanted("eddsa"):
            log("EdDSA, in-process verification against a local JWKS")
            keys = Ed25519Keys()
            server, jwks_url = serve_jwks(keys.jwks)
            try:
                stack.stop("edge")
                edge = stack.edge([tasks1], {"AUTH_JWT_MODE": "jwks", "AUTH_JWKS_URL": jwks_url})
                auth = tokens(keys.token)
                add(wrk("list (EdDSA)", edge, [(f"/api/{u}/tasks", auth[u]) for u, _ in s20], workdir=workdir))
                add(wrk("401 malformed (EdDSA)", edge, bad, expect_status_errors=True, workdir=workdir, floor=bare))
                stack.sample()
            finally:
                server.shutdown()

        if wanted("remote"):
            log("HS256, verified by auth-verify")
            stack.stop("edge")
            verify = stack.auth_verify({})
            edge = stack.edge([tasks1], {"AUTH_VERIFY_URL": verify})
            auth = tokens(lambda u: hs256(stack.secret, u))
            add(wrk("list (remote)", edge, [(f"/api/{u}/tasks", auth[u]) for u, _ in s20], workdir=workdir))
            add(wrk("401 malformed (remote)", edge, bad, expect_status_errors=True, workdir=workdir, floor=bare))
            stack.sample()
            stack.stop("auth-verify")

        if wanted("quiet"):
            log("HS256 with RUST_LOG=warn on the edge (no access log line per request)")
            stack.stop("edge")
            edge = stack.edge([tasks1], {"RUST_LOG": "warn"})
            auth = tokens(lambda u: hs256(stack.secret, u))
            add(wrk("list (HS256, RUST_LOG=warn)", edge, [(f"/api/{u}/tasks", auth[u]) for u, _ in s20],
                    workdir=workdir, floor=select20))
            add(wrk("401 malformed (HS256, RUST_LOG=warn)", edge, bad, expect_status_errors=True, workdir=workdir,
                    floor=bare))
            stack.sample()

        if wanted("compare"):
            compare(stack, tasks1, url, s20, bad, workdir, add, floors)

        if wanted("floor"):
            floor_group(stack, tasks1, url, s20, workdir, add, floors, select20)

        if wanted("sizes"):
            log("tasks per user (HS256, ?limit=1000)")
            stack.stop("edge")
            edge = stack.edge([tasks1], {})
            for size in SIZES:
                users = sets[f"s{size}"]
                auth = {u: "Bearer " + hs256(stack.secret, u) for u, _ in users}
                if size == 20:
                    select = select20  # LIMIT 100 or 1000: the same 20 rows, the same plan
                else:
                    select = pgbench_floor(f"pgbench SELECT ({size} rows)", url, 1000, f"s{size}", workdir)
                    floors.append(select)
                add(wrk(f"list {size} per user", edge, [(f"/api/{u}/tasks?limit=1000", auth[u]) for u, _ in users],
                        workdir=workdir, floor=select))
            stack.sample()

        if wanted("replicas"):
            log("tasks replicas (HS256 list, 20 per user)")
            urls = [tasks1]
            for replicas in (1, 2, 3):
                while len(urls) < replicas:
                    urls.append(stack.tasks(f"tasks-{len(urls) + 1}"))
                stack.stop("edge")
                edge = stack.edge(urls, {})
                auth = tokens(lambda u: hs256(stack.secret, u))
                add(wrk(f"list, {replicas} tasks replica(s)", edge,
                        [(f"/api/{u}/tasks", auth[u]) for u, _ in s20], workdir=workdir))
                stack.sample()
    finally:
        for proc in floor_procs:
            proc.stop()
        stack.stop_all()
        with contextlib.suppress(subprocess.CalledProcessError):
            psql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    results |= {floor.name: floor.result() for floor in floors if floor.rounds}
    report = render(results, stack.peaks, started, load_before, loadavg())
    (OUT / "latest.md").write_text(report)
    (OUT / "latest.json").write_text(
        json.dumps({k: vars(v) for k, v in results.items()} | {"peak_rss_kib": stack.peaks}, indent=2)
    )
    print(report)
    log(f"written to {OUT / 'latest.md'}; logs in {workdir}")
    return 0


def compare(stack: Stack, tasks_url: str, url: str, users: list[tuple[str, int]], bad: list[tuple[str, str]],
            workdir: Path, add: Callable[[Result], None], floors: list[Floor]) -> None:
    """The list and the 401 in the seed's design (FastAPI) and in plain Node,
    each round right after a round of the edge's same figure (HS256), whose
    rounds form the "… (edge, in turns)" rows; the ratio column of a
    comparator's row is its share of the edge's rate."""
    log("comparators: the seed's FastAPI design and plain Node (HS256)")
    lacking = comparators.missing()
    if lacking and "compare" in ONLY:
        raise SystemExit(f"compare: {lacking} is missing")
    if lacking:
        log(f"  skipped: {lacking} is missing")
        return
    stack.stop("edge")
    edge = stack.edge([tasks_url], {})
    auth = {u: "Bearer " + hs256(stack.secret, u) for u, _ in users}
    listing = [(f"/api/{u}/tasks", auth[u]) for u, _ in users]
    turns = [wrk_floor("list (HS256, edge, in turns)", edge, listing, False, workdir),
             wrk_floor("401 malformed (HS256, edge, in turns)", edge, bad, True, workdir)]
    floors += turns
    for label, start, ready in (("FastAPI", comparators.start_fastapi, "Application startup complete."),
                                ("Node", comparators.start_node, "127.0.0.1:")):
        port = free_port()
        log_path = workdir / f"{label}.log"
        settings = comparators.env(url, stack.secret, ISSUER, port, os.environ.get("PATH", ""))
        proc = Proc(label, start(settings, log_path))
        try:
            wait_logged(log_path, ready, proc, count=2 if label == "FastAPI" else 1)
            base = f"http://127.0.0.1:{port}"
            add(wrk(f"list ({label})", base, listing, workdir=workdir, floor=turns[0]))
            add(wrk(f"401 malformed ({label})", base, bad, expect_status_errors=True, workdir=workdir,
                    floor=turns[1]))
        finally:
            proc.stop()
    stack.sample()


TWO_HOPS = "list floor, two hops (axum → tonic → sqlx)"
ONE_HOP = "list floor, one hop (axum + sqlx)"
FLOOR_IN_TURNS = "list floor, two hops (in turns with the edge)"
EDGE_ON_FLOOR = "list (HS256, edge, in turns with the floor)"


def floor_group(stack: Stack, tasks_url: str, url: str, users: list[tuple[str, int]], workdir: Path,
                add: Callable[[Result], None], floors: list[Floor], select: Floor) -> None:
    """The list's architecture floors (`list_floors`), each in turns with
    pgbench's SELECT, and the edge's list (HS256) in turns with the two-hop
    floor, whose rounds form the "… (in turns with the edge)" row."""
    log("the list's floors: bare axum → bare tonic → sqlx, and bare axum + sqlx")
    stack.stop("edge")
    edge = stack.edge([tasks_url], {})
    auth = {u: "Bearer " + hs256(stack.secret, u) for u, _ in users}
    listing = [(f"/api/{u}/tasks", auth[u]) for u, _ in users]
    procs: list[Proc] = []
    try:
        two_hops, one_hop = list_floors(url, workdir, procs)
        add(wrk(TWO_HOPS, two_hops, listing, workdir=workdir, floor=select))
        add(wrk(ONE_HOP, one_hop, listing, workdir=workdir, floor=select))
        pair = wrk_floor(FLOOR_IN_TURNS, two_hops, listing, False, workdir)
        floors.append(pair)
        add(wrk(EDGE_ON_FLOOR, edge, listing, workdir=workdir, floor=pair))
    finally:
        for proc in procs:
            proc.stop()
    stack.sample()


def floor_lines(results: dict[str, Result]) -> list[str]:
    """The list's floors in a sentence: their shares of pgbench and the
    edge's of the two-hop floor (each in turns), and the second hop."""
    two, one, edge = (results.get(name) for name in (TWO_HOPS, ONE_HOP, EDGE_ON_FLOOR))
    if not (two and one and edge and two.ratio and one.ratio and edge.ratio):
        return []
    return [f"List floors (rounds in turns): two hops {two.ratio:.0%} of pgbench, one hop {one.ratio:.0%}; "
            f"the edge {edge.ratio:.0%} of the two-hop floor (floor ÷ edge {1 / edge.ratio:.1f} ×); "
            f"two hops ÷ one hop {two.ratio / one.ratio:.0%} (from their ratios to pgbench)."]


def edge_multiples(results: dict[str, Result]) -> list[str]:
    """How many times the edge's rate each comparator's is (in turns)."""
    lines = []
    for label in ("FastAPI", "Node"):
        parts = [f"{what} {1 / results[f'{what} ({label})'].ratio:.1f} ×"
                 for what in ("list", "401 malformed")
                 if (r := results.get(f"{what} ({label})")) and r.ratio]
        if parts:
            lines.append(f"Edge ÷ {label} (rounds in turns): " + ", ".join(parts) + ".")
    return lines


RATIOS = {
    # figures compared to another figure of the same run (not in turns)
    "list (EdDSA)": "list (HS256)",
    "list (remote)": "list (HS256)",
    "list, 2 tasks replica(s)": "list, 1 tasks replica(s)",
    "list, 3 tasks replica(s)": "list, 1 tasks replica(s)",
}


def render(results: dict[str, Result], peaks: dict[str, int], started: str, before: str, after: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    built = (f"binaries from {RELEASE}" if os.environ.get("BENCH_BIN_DIR")
             else f"commit {commit.stdout.strip() or '?'}")
    lines = [
        f"Measured {started} on {machine()}; load average {before} before, {after} after; {built}.",
        f"wrk {THREADS} thread × {CONNECTIONS} connections, {SECS} s × {ROUNDS} rounds (medians), "
        f"{USERS} users per data set, a token per user; PostgreSQL on 127.0.0.1; release builds; RUST_LOG "
        f"{os.environ.get('RUST_LOG', 'info')}.",
        "",
        "| figure | req/s | p50 ms | p99 ms | ratio | to |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        floor = r.floor or RATIOS.get(name)
        if r.ratio is not None:
            ratio = f"{r.ratio:.0%}"
        else:
            ratio = f"{r.rps / results[floor].rps:.0%}" if floor in results else ""
        shown = name + (f" ({r.errors} errors¹)" if r.errors else "")
        lines.append(
            f"| {shown} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {ratio} | {floor if ratio else ''} |"
        )
    if any(r.errors for r in results.values()):
        lines.append("")
        lines.append("¹ unexpected answers (e.g. a 504 after EDGE_UPSTREAM_TIMEOUT_MS) or socket errors; "
                     "a run with more than 1 % of them stops.")
    multiples = edge_multiples(results) + floor_lines(results)
    if multiples:
        lines += ["", *multiples]
    lines.append("")
    lines.append(
        "Peak RSS (VmHWM): "
        + ", ".join(f"{k} {v / 1024:.1f} MB" for k, v in sorted(peaks.items()))
        + " (tasks: the largest replica)."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
