#!/usr/bin/env python3
"""`just bench-profile`: where one request's instructions go, per step.

Starts tasks and the edge (release builds) under valgrind's callgrind on a
fresh PostgreSQL database, seeds BENCH_USERS users with 20 tasks each, and
for each path (list with an HS256 token, list with an EdDSA token checked
against a local JWKS, 401 for a malformed token) sends warm-up requests,
zeroes the counters, sends PROFILE_REQUESTS requests one after another on
one keep-alive connection, and dumps the counters. Instruction counts do
not depend on the machine's load, so before/after figures are comparable
on a busy machine; they leave out the kernel (syscalls) and PostgreSQL.

Writes bench/results/profile.md (the per-step table, instructions per
request) and one `callgrind_annotate --inclusive=yes` listing per process
and path (profile-*.txt) for a closer look.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (the shared start-up, tokens and database code)

REQUESTS = load.env_int("PROFILE_REQUESTS", 300)
WARMUP = 100

# Each step: (name, outer, parts). Its cost is the larger of the biggest
# inclusive cost among the `outer` functions and the sum, over the `parts`
# patterns, of each one's biggest match: an `outer` function contains the
# parts when the compiler kept it, and the parts are summed when it was
# inlined away. Patterns are regular expressions over callgrind's names.
LAYERED = r"^<tracing_subscriber::layer::layered::Layered<L,S> as tracing_core::subscriber::Subscriber>::"
TRACING = [LAYERED + "event$", LAYERED + "new_span$", LAYERED + "try_close$", LAYERED + "record$",
           LAYERED + "enter$", LAYERED + "exit$"]
EDGE_STEPS = [
    ("HTTP/1 parse and write (hyper)", [],
     [r"^<hyper::proto::h1::role::Server as hyper::proto::h1::Http1Transaction>::parse$",
      r"^<hyper::proto::h1::role::Server as hyper::proto::h1::Http1Transaction>::encode$"]),
    ("per-request clone and drop of the route's service and state (axum)", [],
     [r"^<T as tower::util::boxed_clone_sync::CloneService<R>>::clone_box$",
      r"^core::ptr::drop_in_place<tower::util::oneshot::State<tower::util::boxed_clone_sync"]),
    ("request id (the edge's layer)", [], [r"^edge::request_id::make$"]),
    ("tracing: spans and log lines", [], TRACING),
    ("token verification (auth-core)", [r"^auth_core::verifier::TokenVerifier::verify(_at)?::\{\{closure\}\}$"],
     [r"^auth_core::jwt::decode(_timed)?$", r"^auth_core::jwt::inspect$",
      r"^auth_core::cache::VerifiedCache<T>::get$", r"^auth_core::cache::token_hash$"]),
    ("refusal as problem+json", [],
     [r"^<edge::error::ApiError as axum_core::response::into_response::IntoResponse>::into_response$"]),
    ("internal credential (sign, or reuse)", [],
     [r"^auth_core::internal::InternalSigner::mint(_at)?$",
      r"^edge::upstream::credential::Credentials::authorization(_at)?$"]),
    ("the route's handler: extractors (the edge's: the token), gRPC call, JSON out", [],
     [r"^<F as axum::handler::Handler<.*>>::call::\{\{closure\}\}$"]),
    ("gRPC call: tonic client, protobuf decode", [],
     [r"^<tokio::time::timeout::Timeout<T> as core::future::future::Future>::poll$"]),
    ("  of which protobuf decode", [], [r"^<tonic_prost::codec::ProstDecoder<U> as tonic::codec::Decoder>::decode$"]),
    ("HTTP/2 connection task (h2)", [],
     [r"^<hyper::proto::h2::client::H2ClientFuture<B,T,E> as core::future::future::Future>::poll$"]),
    ("JSON out (the list: written from the reply's bytes; the floor: serde_json)", [],
     [r"^<axum::json::Json<T> as axum_core::response::into_response::IntoResponse>::into_response$",
      r"^edge::routes::tasks::json::tasks$"]),
]
TASKS_STEPS = [
    ("HTTP/2 server connection (h2, hyper)", [],
     [r"^<hyper::proto::h2::server::Server<T,S,B,E> as core::future::future::Future>::poll$"]),
    ("internal credential check", [],
     [r"^<tasks::auth::InternalAuth as tonic::service::interceptor::Interceptor>::call$"]),
    ("tracing: spans and log lines", [], TRACING),
    ("repository: sea-orm, sqlx, row mapping (the floor: sqlx)",
     [r"^tasks::repo::list::\{\{closure\}\}", r"^bare_list_tasks::rows::\{\{closure\}\}$"], []),
    ("  of which query building (sea-query)", [],
     [r"^<sea_query::query::select::SelectStatement as sea_orm::database::statement::StatementBuilder>::build$",
      r"^tasks::entity::Entity::secure_find$", r"^sea_orm::query::select::Select<E>::new$"]),
    ("  of which sending and receiving (sqlx; tasks: the fetch, rows read as they arrive included)", [],
     [r"ConnectionTrait>::query_all_raw::\{\{closure\}\}$", r"^tasks::repo::reads::fetch_postgres::\{\{closure\}\}$"]),
    ("  of which row mapping (by name: sea-orm's model; by position: repo::reads)", [],
     [r"FromQueryResult>::from_query_result(_nullable)?$", r"^tasks::repo::reads::postgres_row$"]),
    ("row → protobuf (timestamps)", [r"^tasks::service::to_proto$"], [r"^tasks::repo::timestamp::Timestamp::rfc3339$"]),
    ("protobuf encode", [], [r"^<tonic_prost::codec::ProstEncoder<T> as tonic::codec::Encoder>::encode$"]),
]


def annotate(path: Path) -> tuple[int, list[tuple[int, str]]]:
    done = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
        check=True, capture_output=True, text=True,
    )
    total = 0
    rows = []
    for line in done.stdout.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:\?\?\?|[^:<\s]+):(?!:)(.+?)(?: \[[^\]]*\])?$", line)
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
        elif m:
            rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    (load.OUT / f"profile-{path.stem}.txt").write_text(done.stdout)
    return total, rows


def step_costs(rows, steps) -> list[tuple[str, int]]:
    def biggest(pattern: str) -> int:
        return max((ir for ir, fn in rows if re.search(pattern, fn)), default=0)

    return [
        (name, max(max((biggest(p) for p in outer), default=0), sum(biggest(p) for p in parts)))
        for name, outer, parts in steps
    ]


def send(base: str, path: str, token: str, count: int) -> None:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    for _ in range(count):
        conn.request("GET", path, headers={"Authorization": token})
        reply = conn.getresponse()
        reply.read()
        if reply.status not in (200, 401):
            raise SystemExit(f"{path}: HTTP {reply.status}")
    conn.close()


def dump(proc: load.Proc, label: str, outdir: Path) -> Path:
    before = set(outdir.iterdir())
    subprocess.run(["callgrind_control", "-d", label, str(proc.popen.pid)], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = [p for p in set(outdir.iterdir()) - before if p.name.startswith(proc.name)]
        if new:
            time.sleep(0.5)  # the file is written in one go, but let it finish
            target = outdir / f"{proc.name}-{label}.out"
            new[0].rename(target)
            return target
        time.sleep(0.2)
    raise SystemExit(f"no callgrind dump from {proc.name}")


def profile(base: str, procs: list[tuple[load.Proc, list]], label: str, path: str, token: str,
            outdir: Path) -> dict:
    """Per process of `procs` (each with its step table): instructions per
    request, in all and per step, for `path` sent to `base`."""
    send(base, path, token, WARMUP)
    for proc, _ in procs:
        subprocess.run(["callgrind_control", "-z", str(proc.popen.pid)], check=True, capture_output=True)
    send(base, path, token, REQUESTS)
    result = {}
    for proc, steps in procs:
        total, rows = annotate(dump(proc, label, outdir))
        result[proc.name] = (total // REQUESTS, [(n, c // REQUESTS) for n, c in step_costs(rows, steps)])
    load.log(f"  {label}: " + ", ".join(f"{name} {total:,} Ir/request" for name, (total, _) in result.items()))
    return result


def profile_stack(edge: str, edge_proc: load.Proc, tasks_proc: load.Proc, label: str, path: str, token: str,
                  outdir: Path) -> dict:
    return profile(edge, [(edge_proc, EDGE_STEPS), (tasks_proc, TASKS_STEPS)], label, path, token, outdir)


# Each path's dumps: `{process}-{label}.out`.
LABELS = {"list-hs256": "list (HS256)", "reject": "401 malformed", "list-eddsa": "list (EdDSA)",
          "list-floor": "list, floor (two hops)"}


def reannotate(outdir: Path) -> dict:
    """The results of an earlier run, from its dumps (`--annotate DIR`), e.g.
    after a change to the step table; PROFILE_REQUESTS must match that run."""
    results = {}
    for label, title in LABELS.items():
        if not (outdir / f"edge-{label}.out").exists():
            continue  # a run from before the floor was profiled
        results[title] = {}
        for proc, steps in (("edge", EDGE_STEPS), ("tasks", TASKS_STEPS)):
            total, rows = annotate(outdir / f"{proc}-{label}.out")
            results[title][proc] = (total // REQUESTS, [(n, c // REQUESTS) for n, c in step_costs(rows, steps)])
    return results


def callgrind(outdir: Path) -> list[str]:
    """The wrapper every profiled process runs under; `{name}` is its name."""
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outdir}/{{name}}.%p"]


def profile_examples(chain: list[tuple[str, str, list[str], list]], label: str, path: str, token: str,
                     workdir: Path, outdir: Path) -> dict:
    """`profile` for a chain of the floors' examples under callgrind:
    (process name, example, its arguments, its step table), each after
    the first given the URL of the one before it for `{url}`; the requests
    go to the last."""
    procs: list[tuple[load.Proc, list]] = []
    base = ""
    try:
        for name, example, args, steps in chain:
            proc, base = load.start_example(example, [a.replace("{url}", base) for a in args], workdir, name,
                                            callgrind(outdir))
            procs.append((proc, steps))
        return profile(base, procs, label, path, token, outdir)
    finally:
        for proc, _ in procs:
            proc.stop()


def profile_floors(url: str, user: str, workdir: Path, outdir: Path) -> tuple[dict, int, int]:
    """Instructions per request of the floors: the list through both hops
    (`bare-list-edge` as "edge", `bare-list-tasks` as "tasks", with their
    steps), the list through one (`bare-list-tasks --http`), and `bare-401`."""
    path = f"/api/{user}/tasks"
    pair = profile_examples([("tasks", "bare-list-tasks", [url, "127.0.0.1:0"], TASKS_STEPS),
                             ("edge", "bare-list-edge", ["{url}", "127.0.0.1:0"], EDGE_STEPS)],
                            "list-floor", path, "", workdir, outdir)
    direct = profile_examples([("direct", "bare-list-tasks", [url, "127.0.0.1:0", "--http"], [])],
                              "list-floor", path, "", workdir, outdir)
    bare = profile_examples([("bare-401", "bare-401", ["127.0.0.1:0"], [])],
                            "reject", "/api/x/tasks", "Bearer x", workdir, outdir)
    return pair, direct["direct"][0], bare["bare-401"][0]


def main() -> int:
    if sys.argv[1:2] == ["--annotate"]:
        load.OUT.mkdir(parents=True, exist_ok=True)
        report = render(reannotate(Path(sys.argv[2])))
        (load.OUT / "profile.md").write_text(report)
        print(report)
        return 0
    load.stop_on_signals()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is missing: apt-get install valgrind")
    load.build()
    load.OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    outdir = workdir / "callgrind"
    outdir.mkdir()
    wrapper = callgrind(outdir)
    name = f"bench_profile_{int(time.time())}_{os.getpid()}"
    url = load.db_url(name)
    load.psql(load.ADMIN_URL, f'CREATE DATABASE "{name}"')
    # valgrind runs ~50× slower: long timeouts (the upstream one short enough,
    # under 49 s, for the edge to reuse internal credentials as it does by
    # default), no background rounds.
    slow = {
        "EDGE_UPSTREAM_TIMEOUT_MS": "15000", "EDGE_CONNECT_TIMEOUT_MS": "60000",
        "EDGE_REQUEST_TIMEOUT_MS": "300000", "TASKS_RESOLVE_INTERVAL_MS": "3600000",
    }
    stack = load.Stack(workdir, url, wrapper, slow)
    results = {}
    try:
        tasks_url = stack.tasks("tasks")
        tasks_proc = stack.procs[-1]
        edge = stack.edge([tasks_url], {})
        user, _ = load.seed(url)["s20"][0]
        hs = "Bearer " + load.hs256(stack.secret, user)
        results["list (HS256)"] = profile_stack(edge, stack.procs[-1], tasks_proc, "list-hs256",
                                                f"/api/{user}/tasks", hs, outdir)
        results["401 malformed"] = profile_stack(edge, stack.procs[-1], tasks_proc, "reject",
                                                 f"/api/{user}/tasks", "Bearer not.a-valid.token", outdir)
        keys = load.Ed25519Keys()
        server, jwks_url = load.serve_jwks(keys.jwks)
        try:
            stack.stop("edge")
            edge = stack.edge([tasks_url], {"AUTH_JWT_MODE": "jwks", "AUTH_JWKS_URL": jwks_url})
            results["list (EdDSA)"] = profile_stack(edge, stack.procs[-1], tasks_proc, "list-eddsa",
                                                    f"/api/{user}/tasks", "Bearer " + keys.token(user), outdir)
        finally:
            server.shutdown()
        stack.stop_all()  # before the floors start: their dumps are told apart by the time they appear
        pair, direct, bare = profile_floors(url, user, workdir, outdir)
        results[LABELS["list-floor"]] = pair
    finally:
        stack.stop_all()
        load.psql(load.ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report = render(results) + floor_lines(results, direct, bare)
    (load.OUT / "profile.md").write_text(report)
    print(report)
    load.log(f"written to {load.OUT / 'profile.md'}; callgrind files in {outdir}")
    return 0


def floor_lines(results: dict, direct: int, bare: int) -> str:
    """The floors' totals beside the stack's, in a few lines."""
    stack, floor = (sum(total for total, _ in results[title].values())
                    for title in ("list (HS256)", LABELS["list-floor"]))
    return (f"\nThe list's floors (`bare-list-edge` → `bare-list-tasks`: the same two hops, proto, SELECT and JSON, "
            f"nothing else): {floor:,} per request in both processes, against the edge and tasks' {stack:,} "
            f"({stack / floor:.1f} ×); one hop (`bare-list-tasks --http`, axum + sqlx): {direct:,}.\n"
            f"The floor of the 401, a bare axum handler answering 401 (`bare-401`): {bare:,} per request.\n")


def render(results: dict) -> str:
    paths = list(results)
    lines = [
        f"Instructions per request (callgrind, {REQUESTS} requests one after another on one connection, "
        "after a warm-up; user space only: syscalls and PostgreSQL are not counted).",
        "",
        "| process: step | " + " | ".join(paths) + " |",
        "|---|" + "---:|" * len(paths),
    ]
    for proc in ("edge", "tasks"):
        totals = [results[p][proc][0] for p in paths]
        lines.append(f"| **{proc}: total** | " + " | ".join(f"**{t:,}**" for t in totals) + " |")
        for i, (step, _) in enumerate(results[paths[0]][proc][1]):
            cells = []
            for p in paths:
                total, steps = results[p][proc]
                cost = steps[i][1]
                cells.append(f"{cost:,} ({cost / total:.0%})" if total and cost else "–")
            lines.append(f"| {proc}: {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
