#!/usr/bin/env python3
"""Checks the compose `metrics` profile's files without running them:

- deploy/prometheus/prometheus.yml with `promtool check config` (Debian's
  `prometheus` package has promtool; .ci/run installs it);
- the Grafana dashboard JSON (deploy/grafana/dashboards/*.json): its
  structure (uid, title, unique panel ids, a grid position, targets with a
  refId and a PromQL expression, the provisioned data source's uid); every
  expression parsed by `promtool check rules` (Grafana's $__rate_interval and
  $__range read as 5m); every metric it names is one the services record
  (found in crates/*/src);
- the provisioning files, and that the scrape jobs' names and ports are the
  compose services and their *_ADMIN_LISTEN_ADDR ports.

Exit status 1 with one line per problem.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from compose_file import ROOT, load_services, load_yaml

PROMETHEUS = ROOT / "deploy/prometheus/prometheus.yml"
GRAFANA = ROOT / "deploy/grafana"
DASHBOARDS = GRAFANA / "dashboards"
# Metric names the dashboards may use that no crate records.
BUILTIN = {"up"}
# The Rust services and the variable naming their admin address.
ADMIN_VARS = {
    "edge": "EDGE_ADMIN_LISTEN_ADDR",
    "tasks": "TASKS_ADMIN_LISTEN_ADDR",
    "auth-verify": "AUTH_VERIFY_ADMIN_LISTEN_ADDR",
}

problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)


def promtool(*args: str) -> None:
    tool = shutil.which("promtool")
    if tool is None:
        problem("promtool is not installed (Debian: apt-get install prometheus; .ci/run does)")
        return
    run = subprocess.run([tool, *args], capture_output=True, text=True)
    if run.returncode != 0:
        problem(f"promtool {' '.join(args)}:\n{run.stdout}{run.stderr}")


def recorded_metrics() -> set[str]:
    """Every string literal in the crates' sources that looks like one of our metric names."""
    names: set[str] = set()
    for source in ROOT.glob("crates/*/src/**/*.rs"):
        names |= set(re.findall(r'"((?:edge|tasks|auth|auth_verify)_[a-z0-9_]+)"', source.read_text()))
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers not followed by `(`,
    not label names inside braces, not keywords."""
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_groups = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    without_strings = re.sub(r'"[^"]*"', "", without_groups)
    words = re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", without_strings)
    return {w for w in words if not re.fullmatch(r"\d+[smhdwy]|le|rate_interval|range", w) and not w.startswith("__")}


def base_name(name: str) -> str:
    return re.sub(r"_(bucket|count|sum)$", "", name)


def check_dashboard(path: Path, datasource_uid: str, recorded: set[str], rules: list[dict]) -> None:
    try:
        dashboard = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        problem(f"{path.name}: not JSON: {error}")
        return
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in dashboard:
            problem(f"{path.name}: no {key!r}")
    seen: set[int] = set()
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        pid = panel.get("id")
        if not isinstance(pid, int) or pid in seen:
            problem(f"{path.name}: panel {title!r} has a missing or repeated id {pid!r}")
        seen.add(pid)
        grid = panel.get("gridPos") or {}
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")) or grid.get("x", 0) + grid.get("w", 0) > 24:
            problem(f"{path.name}: panel {title!r} has no valid gridPos")
        if not panel.get("type"):
            problem(f"{path.name}: panel {title!r} has no type")
        targets = panel.get("targets") or []
        if not targets:
            problem(f"{path.name}: panel {title!r} has no queries")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(refs):
            problem(f"{path.name}: panel {title!r} has missing or repeated refIds")
        for target in targets:
            for source in (panel.get("datasource") or {}, target.get("datasource") or {}):
                if source and source.get("uid") != datasource_uid:
                    problem(f"{path.name}: panel {title!r} uses data source {source.get('uid')!r}, not {datasource_uid!r}")
            expr = target.get("expr", "")
            if not expr.strip():
                problem(f"{path.name}: panel {title!r} query {target.get('refId')} has no expr")
                continue
            promql = expr.replace("$__rate_interval", "5m").replace("$__range", "5m")
            rules.append({"record": f"check:{path.stem.replace('-', '_')}:{pid}_{target.get('refId')}", "expr": promql})
            for name in metric_names(promql):
                if name not in BUILTIN and base_name(name) not in recorded and name not in recorded:
                    problem(f"{path.name}: panel {title!r} names {name}, which no service records")


def main() -> int:
    services = load_services()

    promtool("check", "config", str(PROMETHEUS))
    config = load_yaml(PROMETHEUS)
    jobs = {job.get("job_name"): job for job in config.get("scrape_configs") or []}
    for service, var in ADMIN_VARS.items():
        addr = str((services.get(service, {}).get("environment") or {}).get(var, ""))
        port = addr.rsplit(":", 1)[-1] if ":" in addr else None
        if port is None:
            problem(f"docker-compose.yml: {service} has no {var}")
            continue
        job = jobs.get(service)
        if job is None:
            problem(f"{PROMETHEUS.name}: no job {service!r}")
            continue
        sd = (job.get("dns_sd_configs") or [{}])[0]
        if service not in (sd.get("names") or []) or str(sd.get("port")) != port:
            problem(f"{PROMETHEUS.name}: job {service!r} must find {service}:{port} by DNS (every replica), as {var} says")
    for name in ("prometheus", "grafana"):
        if "metrics" not in (services.get(name, {}).get("profiles") or []):
            problem(f"docker-compose.yml: {name} is not in the `metrics` profile")

    datasources = load_yaml(GRAFANA / "provisioning/datasources/prometheus.yml").get("datasources") or []
    uid = datasources[0].get("uid") if datasources else None
    if not uid or "prometheus:9090" not in str(datasources[0].get("url")):
        problem("grafana data source: needs a uid and the url http://prometheus:9090")
    providers = load_yaml(GRAFANA / "provisioning/dashboards/todo.yml").get("providers") or []
    mounts = [str(v) for v in services.get("grafana", {}).get("volumes") or []]
    for provider in providers:
        path = (provider.get("options") or {}).get("path")
        if not any(m.endswith(f":{path}:ro") or m.endswith(f":{path}") for m in mounts):
            problem(f"grafana dashboard provider path {path} is not mounted in docker-compose.yml")

    recorded = recorded_metrics()
    rules: list[dict] = []
    dashboards = sorted(DASHBOARDS.glob("*.json"))
    if not dashboards:
        problem(f"no dashboard in {DASHBOARDS.relative_to(ROOT)}")
    for path in dashboards:
        check_dashboard(path, uid, recorded, rules)
    if rules:
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as file:
            json.dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, file)
        promtool("check", "rules", file.name)
        Path(file.name).unlink()

    for line in problems:
        print(f"metrics-check: {line}", file=sys.stderr)
    if not problems:
        print(f"metrics-check: prometheus.yml valid (promtool), {len(dashboards)} dashboard(s), {len(rules)} queries parse and name recorded metrics")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
