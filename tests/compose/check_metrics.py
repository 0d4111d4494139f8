#!/usr/bin/env python3
"""Metrics check: the `metrics` profile's Prometheus, run against the stack.

1. `docker compose up -d --wait --no-deps prometheus` (the profile's
   service, named on the command line; its health check must pass), with
   deploy/prometheus/prometheus.yml as docker-compose.yml mounts it.
2. Its HTTP API (/api/v1/targets, on the port published to 127.0.0.1): the
   DNS discovery found exactly the running containers of edge, auth-verify
   and every tasks replica (addresses from `docker inspect`), on their admin
   ports, and every target (Prometheus itself too) is up.
3. Traffic through the edge's public port: CREATES creates of a new user's
   tasks. Then /api/v1/query until the next scrapes: the edge's
   edge_http_requests_total for that route, POST and 201, and the tasks
   replicas' tasks_grpc_requests_total for CreateTask and ok (summed over the
   replicas) both grew by exactly CREATES.
4. No metrics on the public side: GET /metrics on the edge's and web's
   published ports is no Prometheus text, and no container publishes an
   admin port; Prometheus is published on 127.0.0.1 only.
5. Prometheus is stopped and removed (also when a step fails).

Scrapes are every 15 s (the config's scrape_interval, as users run it), so
this waits for at most two scrape rounds.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

from stack import CheckFailed, Container, Stack, User, docker, eventually, expect, log, main, request

CREATES = 12
# The jobs of deploy/prometheus/prometheus.yml: compose service → admin port
# (its *_ADMIN_LISTEN_ADDR in docker-compose.yml).
ADMIN_PORTS = {"edge": 9180, "tasks": 9152, "auth-verify": 9151}
# What the stack publishes to the host: service → container port.
PUBLIC = {"edge": 8080, "web": 3000}
CREATE_ROUTE = "/api/{user_id}/tasks"
EDGE_CREATES = f'sum(edge_http_requests_total{{job="edge",route="{CREATE_ROUTE}",method="POST",status="201"}})'
TASKS_CREATES = 'sum(tasks_grpc_requests_total{job="tasks",method="todo.tasks.v1.Tasks/CreateTask",code="ok"})'
# Two scrape rounds (15 s each) and some slack.
SCRAPE_WAIT_S = 45


class Prometheus:
    def __init__(self, stack: Stack) -> None:
        self.url = f"http://127.0.0.1:{stack.env['PROMETHEUS_PORT']}"

    def api(self, path: str) -> dict:
        resp = request("GET", f"{self.url}/api/v1/{path}")
        expect(resp.status == 200, f"Prometheus /api/v1/{path}: {resp.describe()}")
        body = resp.json()
        expect(body.get("status") == "success", f"Prometheus /api/v1/{path}: {body}")
        return body["data"]

    def targets(self) -> list[dict]:
        return self.api("targets?state=active")["activeTargets"]

    def value(self, query: str) -> float:
        """A query's single value; 0 when no series matches (yet)."""
        result = self.api("query?" + urllib.parse.urlencode({"query": query}))["result"]
        expect(len(result) <= 1, f"{query}: {len(result)} series, wanted one")
        return float(result[0]["value"][1]) if result else 0.0


def expected_targets(stack: Stack) -> dict[str, set[str]]:
    """job → the addresses Prometheus should scrape: each running container
    of the service on its admin port."""
    wanted = {"prometheus": {"127.0.0.1:9090"}}
    for service, port in ADMIN_PORTS.items():
        wanted[service] = {f"{c.ip}:{port}" for c in stack.containers(service)}
    expect(len(wanted["tasks"]) == 3, f"tasks replicas running: {sorted(wanted['tasks'])}, wanted 3")
    return wanted


def target_problems(prometheus: Prometheus, wanted: dict[str, set[str]]) -> list[str]:
    """How the active targets differ from `wanted`, each up; [] when not at all."""
    found: dict[str, set[str]] = {}
    problems = []
    for target in prometheus.targets():
        job = target["labels"]["job"]
        address = target["discoveredLabels"]["__address__"]
        found.setdefault(job, set()).add(address)
        if target["health"] != "up":
            problems.append(f"{job} {address} is {target['health']} {target.get('lastError', '')}".strip())
    for job in sorted(wanted.keys() | found.keys()):
        if found.get(job, set()) != wanted.get(job, set()):
            problems.append(f"{job}: targets {sorted(found.get(job, []))}, wanted {sorted(wanted.get(job, []))}")
    return problems


def scraped_targets(stack: Stack, prometheus: Prometheus) -> None:
    wanted = expected_targets(stack)
    problems: list[str] = []

    def all_up() -> bool:
        nonlocal problems
        problems = target_problems(prometheus, wanted)
        return not problems

    try:
        eventually("every target discovered and up", all_up, deadline_s=SCRAPE_WAIT_S)
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}: {'; '.join(problems)}") from None
    log(f"targets up: {', '.join(f'{job} ×{len(addresses)}' for job, addresses in sorted(wanted.items()))}")


def counters_move(stack: Stack, prometheus: Prometheus) -> None:
    before = {query: prometheus.value(query) for query in (EDGE_CREATES, TASKS_CREATES)}
    user = User.sign_up(stack, "metrics")
    for _ in range(CREATES):
        resp = user.api("POST", "", {"title": f"metrics-{uuid.uuid4().hex[:8]}"})
        expect(resp.status == 201, f"create: {resp.describe()}")
    log(f"{CREATES} creates through the edge; waiting for the next scrapes")
    for query, start in before.items():
        grown = eventually(
            f"{query} to grow by {CREATES} from {start:g}",
            lambda: (value := prometheus.value(query)) >= start + CREATES and value,
            deadline_s=SCRAPE_WAIT_S,
        )
        expect(grown == start + CREATES, f"{query}: {start:g} → {grown:g}, wanted +{CREATES} exactly")
        log(f"{query}: {start:g} → {grown:g}")


def published(container: Container) -> dict[str, list[tuple[str, str]]]:
    """container port → [(host address, host port)] of its published ports."""
    ports = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", container.id)) or {}
    return {port: [(b["HostIp"], b["HostPort"]) for b in bindings or []] for port, bindings in ports.items()}


def nothing_public(stack: Stack) -> None:
    for name, url in (("edge", stack.edge_url), ("web", stack.web_url)):
        resp = request("GET", f"{url}/metrics")
        expect(
            resp.status == 404 and b"_total" not in resp.body and b"# TYPE" not in resp.body,
            f"GET /metrics on {name}'s public port: {resp.describe()}",
        )
    for service in (*ADMIN_PORTS, "web", "postgres", "prometheus"):
        for container in stack.containers(service):
            for port, bindings in published(container).items():
                if not bindings:
                    continue
                if service == "prometheus":
                    expect(
                        port == "9090/tcp" and all(host == "127.0.0.1" for host, _ in bindings),
                        f"{container.name} publishes {port} on {bindings}: only 9090 on 127.0.0.1 is wanted",
                    )
                else:
                    expect(
                        port == f"{PUBLIC.get(service)}/tcp",
                        f"{container.name} publishes {port} on {bindings}: only its public port may be",
                    )
    log("GET /metrics on the public ports: 404; no admin port published; Prometheus on 127.0.0.1 only")


def check(stack: Stack) -> None:
    prometheus = Prometheus(stack)
    stack.compose("up", "-d", "--no-deps", "--wait", "--wait-timeout", "60", "prometheus")
    try:
        scraped_targets(stack, prometheus)
        counters_move(stack, prometheus)
        nothing_public(stack)
    finally:
        stack.compose("rm", "--stop", "--force", "--volumes", "prometheus", capture=True)
    expect(not stack.containers("prometheus"), "prometheus still runs after `docker compose rm --stop`")
    log("prometheus stopped and removed")


if __name__ == "__main__":
    main(check)
