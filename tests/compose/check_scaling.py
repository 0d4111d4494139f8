#!/usr/bin/env python3
"""Scaling check: three tasks replicas behind the edge, under traffic.

Which replica served a request: every write ends in an INSERT on the
replica's own PostgreSQL connections, and PostgreSQL is told to log each
data-changing statement with the client's address (`log_statement = 'mod'`,
`%h` in `log_line_prefix`, set with ALTER SYSTEM at run time, so the compose
file is the user's). Each task's title is unique, so the log says which
replica's address inserted it; `docker inspect` maps addresses to replicas.

1. Spread: 60 creates through the edge; each of the three replicas inserts
   at least 6 of them (a tenth).
2. Under traffic (writers and readers for three users, all the time):
   `docker stop` of one replica (what `docker compose stop` does, for one
   container), then `kill -9` of another replica's `tasks` process (its
   container restarts by its restart policy), then
   `docker compose up --scale tasks=1` and back to `--scale tasks=3`.
   Every write the edge acknowledged (201) is then read back with its title;
   a call that failed got 503 or 504, never another status or no answer.
3. Spread again: the replicas that exist now all serve.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from collections import Counter

from stack import CheckFailed, Stack, User, docker, eventually, expect, log, main

SPREAD_CALLS = 60
# During disruptions a call may fail, but only as the contract says.
ALLOWED_FAILURES = {503, 504}
# Between two calls of one thread: enough traffic, without hogging a shared machine.
PAUSE_S = 0.05


def enable_statement_log(stack: Stack) -> None:
    stack.psql("ALTER SYSTEM SET log_statement = 'mod'")
    stack.psql("ALTER SYSTEM SET log_line_prefix = '%m [%p] client=%h '")
    stack.psql("SELECT pg_reload_conf()")


def inserted_by(stack: Stack, titles: list[str]) -> dict[str, str]:
    """title → address of the client whose INSERT carried it."""
    logs = stack.compose("logs", "--no-color", "--no-log-prefix", "postgres", capture=True)
    wanted = set(titles)
    found: dict[str, str] = {}
    for line in logs.splitlines():
        match = re.search(r"client=(\S+) DETAIL:\s+Parameters?: (.*)", line, re.I)
        if not match:
            continue
        for title in re.findall(r"'([^']*)'", match.group(2)):
            if title in wanted:
                found[title] = match.group(1)
    return found


def spread(stack: Stack, user: User, label: str) -> Counter:
    """Creates SPREAD_CALLS tasks one after another; counts them by the
    replica that inserted each."""
    replicas = stack.wait_healthy("tasks", 3)
    by_ip = {c.ip: c.name for c in replicas}
    titles = [f"{label}-{uuid.uuid4().hex[:12]}" for _ in range(SPREAD_CALLS)]
    for title in titles:
        resp = user.api("POST", "", {"title": title})
        expect(resp.status == 201, f"create {title}: {resp.describe()}")

    def all_logged() -> dict[str, str] | None:
        found = inserted_by(stack, titles)
        return found if len(found) == len(titles) else None

    found = eventually("every insert in PostgreSQL's log", all_logged, deadline_s=20)
    counts = Counter(by_ip.get(ip, f"unknown client {ip}") for ip in found.values())
    log(f"{label}: {SPREAD_CALLS} creates by replica: {dict(sorted(counts.items()))}")
    for replica in replicas:
        expect(
            counts[replica.name] >= SPREAD_CALLS // 10,
            f"{label}: {replica.name} inserted {counts[replica.name]} of {SPREAD_CALLS} (want ≥ {SPREAD_CALLS // 10})",
        )
    expect(set(counts) == {r.name for r in replicas}, f"{label}: inserts from outside the replicas: {counts}")
    return counts


class Traffic:
    """One writer and one reader per user, in threads, until stopped; each
    makes one call at a time, PAUSE_S apart."""

    def __init__(self, users: list[User]) -> None:
        self.users = users
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[tuple[User, int, str]] = []
        self.outcomes: Counter = Counter()
        self.unexpected: list[str] = []
        self.threads = [threading.Thread(target=self._write, args=(u,)) for u in users]
        self.threads += [threading.Thread(target=self._read, args=(u,)) for u in users]

    def _record(self, kind: str, status: int, detail: str) -> None:
        with self.lock:
            self.outcomes[(kind, status)] += 1
            if status not in ALLOWED_FAILURES and status not in (200, 201):
                self.unexpected.append(f"{kind}: {detail}")

    def _write(self, user: User) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            title = f"traffic-{n}-{uuid.uuid4().hex[:12]}"
            resp = user.api("POST", "", {"title": title})
            if resp.status == 201:
                with self.lock:
                    self.acked.append((user, resp.json()["id"], title))
            self._record("write", resp.status, resp.describe())
            time.sleep(PAUSE_S)

    def _read(self, user: User) -> None:
        while not self.stopping.is_set():
            resp = user.api("GET", "?limit=20")
            self._record("read", resp.status, resp.describe())
            time.sleep(PAUSE_S)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def progress(self, what: str, more: int = 15) -> None:
        """Waits until `more` further writes are acknowledged."""
        target = self.acked_count() + more
        eventually(f"{more} more acknowledged writes after {what}", lambda: self.acked_count() >= target, deadline_s=90, pause_s=0.2)
        log(f"{what}: writes go on ({self.acked_count()} acknowledged so far)")


def disrupt(stack: Stack, traffic: Traffic) -> None:
    replicas = stack.wait_healthy("tasks", 3)
    traffic.progress("traffic started")

    stopped = replicas[1]
    log(f"docker stop {stopped.name} (SIGTERM, then SIGKILL after 10 s)")

    docker("stop", "-t", "10", stopped.id)
    traffic.progress(f"{stopped.name} stopped")

    crashed = replicas[2]
    restarts = crashed.restart_count()
    pid = crashed.main_pid("tasks")
    log(f"kill -9 {pid} (the tasks process of {crashed.name})")
    os.kill(pid, signal.SIGKILL)
    traffic.progress(f"{crashed.name} killed")
    eventually(f"{crashed.name} restarted by its restart policy", lambda: crashed.restart_count() > restarts)
    eventually(f"{crashed.name} healthy again", lambda: crashed.health() == "healthy", deadline_s=120)
    traffic.progress(f"{crashed.name} back")

    log("docker compose up --scale tasks=1")
    stack.up(tasks=1)
    expect(len(stack.containers("tasks")) == 1, "scale 1: not exactly one tasks container")
    traffic.progress("scaled to 1")

    log("docker compose up --scale tasks=3")
    stack.up(tasks=3)
    stack.wait_healthy("tasks", 3)
    traffic.progress("scaled back to 3")


def verify(traffic: Traffic) -> None:
    log(f"outcomes: {dict(sorted(traffic.outcomes.items()))}")
    expect(not traffic.unexpected, f"calls failed outside the contract (503/504): {traffic.unexpected[:5]}")
    expect(len(traffic.acked) >= 100, f"only {len(traffic.acked)} writes acknowledged: too little traffic to tell")
    missing = []
    for user in traffic.users:
        listed = {task["id"]: task["title"] for task in user.tasks()}
        for owner, task_id, title in traffic.acked:
            if owner is user and listed.get(task_id) != title:
                missing.append((user.email, task_id, title, listed.get(task_id)))
    expect(not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}")
    log(f"all {len(traffic.acked)} acknowledged writes read back")


def check(stack: Stack) -> None:
    stack.wait_healthy("tasks", 3)
    enable_statement_log(stack)
    spreader = User.sign_up(stack, "spread")
    spread(stack, spreader, "spread")

    users = [User.sign_up(stack, f"traffic{i}") for i in range(3)]
    traffic = Traffic(users)
    traffic.start()
    try:
        disrupt(stack, traffic)
    finally:
        traffic.stop()
    verify(traffic)

    # The edge finds the new replicas by re-resolving `tasks` (every
    # TASKS_RESOLVE_INTERVAL_MS): wait for that, then each serves again.
    spreader.refresh_token()
    eventually("every current replica serving", lambda: try_spread(stack, spreader), deadline_s=60, pause_s=2)
    log("scaling check passed")


def try_spread(stack: Stack, user: User) -> bool:
    try:
        spread(stack, user, "spread-after")
        return True
    except CheckFailed as failure:
        log(f"not yet: {failure}")
        return False


if __name__ == "__main__":
    main(check)
