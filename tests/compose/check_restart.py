#!/usr/bin/env python3
"""Restart check: every task lives in the named volume `pgdata`.

1. A user creates five tasks (one with a description) and completes one.
2. `docker compose restart postgres`: once PostgreSQL is healthy again, the
   same five tasks come back through the edge, unchanged, and a new one can
   be created (tasks and web reconnect by themselves).
3. `docker compose down` (volumes kept) and `up -d --wait --scale tasks=3`:
   every task is still there; the user's Better Auth session (also in
   PostgreSQL) still gives a token, and signing in with the password works.

Calls that fail while the stack comes back are counted and shown; only what
is stored matters here.
"""

from __future__ import annotations

from collections import Counter

from stack import Stack, User, eventually, expect, log, main


def snapshot(user: User) -> list[tuple]:
    return [(t["id"], t["title"], t["description"], t["completed"]) for t in user.tasks()]


def until_ok(what: str, call, want: int, failures: Counter):
    """Repeats call() until it answers `want`, counting other answers."""

    def attempt():
        resp = call()
        if resp.status == want:
            return resp
        failures[resp.status] += 1
        return None

    return eventually(what, attempt, deadline_s=90)


def check(stack: Stack) -> None:
    user = User.sign_up(stack, "restart")
    for n in range(5):
        body = {"title": f"kept {n}"}
        if n == 2:
            body["description"] = "with a description, ünïcode and all"
        resp = user.api("POST", "", body)
        expect(resp.status == 201, f"create: {resp.describe()}")
    first = user.tasks()[0]["id"]
    resp = user.api("PATCH", f"/{first}/complete")
    expect(resp.status == 200 and resp.json()["completed"], f"complete: {resp.describe()}")
    before = snapshot(user)
    expect(len(before) == 5, f"expected 5 tasks, got {before}")

    log("docker compose restart postgres")
    stack.compose("restart", "postgres")
    stack.wait_healthy("postgres", 1)
    failures: Counter = Counter()
    until_ok("listing after the restart", lambda: user.api("GET", "?limit=1000"), 200, failures)
    expect(snapshot(user) == before, f"after restart postgres: {snapshot(user)} != {before}")
    until_ok("creating after the restart", lambda: user.api("POST", "", {"title": "after restart"}), 201, failures)
    until_ok("a token after the restart", lambda: user.auth("GET", "/api/auth/token"), 200, failures)
    log(f"restart postgres: all 5 tasks kept; calls that failed while it came back: {dict(failures)}")
    before = snapshot(user)

    log("docker compose down (volumes kept), then up --wait --scale tasks=3")
    stack.compose("down")
    expect(not stack.containers("tasks"), "down left tasks containers")
    stack.up(tasks=3)
    user.refresh_token()  # the old session cookie, from the volume
    after = snapshot(user)
    expect(after == before, f"after down/up: {after} != {before}")
    user.sign_in()
    user.refresh_token()
    expect(snapshot(user) == before, "after signing in again: tasks differ")
    log(f"down/up: all {len(before)} tasks kept, the session too; restart check passed")


if __name__ == "__main__":
    main(check)
