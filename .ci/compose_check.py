#!/usr/bin/env python3
"""Checks what docker-compose.yml names, without a Docker engine.

The Compose Specification schema (check-jsonschema, run by `just
compose-check` before this) checks the shape; this checks the references:

- the five services are there; every service has a health check;
- every `depends_on` target is a service, waited on with `service_healthy`;
- every build context, Dockerfile and build target exists;
- every binary the Dockerfiles build, copy or run is a workspace bin, and
  every health check runs a binary its image has;
- every npm script web/Dockerfile runs is in web/package.json, and every
  node_modules/.bin tool it runs is installed at the top level by the lock;
- tasks can scale (no container_name, no published port); only web and edge
  (and services in optional profiles) publish ports;
- every URL in an environment value names a service (or localhost);
- every ${VAR} the file reads is in .env.example, and the required ones
  (${VAR:?…}) are set there;
- no Dockerfile has a `# syntax=` line (it pulls a frontend image, which
  fails without a registry).

Exit 0 when all hold, 1 with one line per problem otherwise.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

from compose_file import COMPOSE, ROOT, load_services

REQUIRED_SERVICES = {"postgres", "web", "edge", "tasks", "auth-verify"}
PUBLISHED = {"web", "edge"}
SCALED = "tasks"

problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)


def workspace_bins() -> tuple[set[str], set[str]]:
    """(binary names, package names) of the Cargo workspace."""
    out = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    packages = json.loads(out)["packages"]
    bins = {t["name"] for p in packages for t in p["targets"] if "bin" in t["kind"]}
    return bins, {p["name"] for p in packages}


class Dockerfile:
    """The stages of a Dockerfile and what each installs in /usr/local/bin."""

    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text()
        # Continuation lines joined, comments dropped.
        joined = re.sub(r"\\\n", " ", self.text)
        self.lines = [
            line.strip()
            for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        self.parent: dict[str, str] = {}
        self.installs: dict[str, set[str]] = {}
        stage = None
        for line in self.lines:
            match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
            if match:
                stage = match.group(2) or f"#{len(self.parent)}"
                self.parent[stage] = match.group(1)
                self.installs[stage] = set()
                continue
            match = re.match(r"COPY\s.*\s/usr/local/bin/(\S+)$", line, re.I)
            if match and stage:
                self.installs[stage].add(match.group(1))

    def stages(self) -> set[str]:
        return set(self.parent)

    def binaries_in(self, stage: str) -> set[str]:
        """What /usr/local/bin holds in `stage`, through its base stages."""
        found: set[str] = set()
        while stage in self.parent:
            found |= self.installs[stage]
            stage = self.parent[stage]
        return found


def check_rust_dockerfile(path: Path, bins: set[str], packages: set[str]) -> None:
    dockerfile = Dockerfile(path)
    for line in dockerfile.lines:
        if "cargo build" in line:
            command = line.split("cargo build", 1)[1].split("&&", 1)[0]
            for package in re.findall(r"(?:-p|--package)\s+(\S+)", command):
                if package not in packages:
                    problem(f"{path.name}: builds -p {package}, not a workspace package")
        for name in re.findall(r"(?:target/release|/out|/usr/local/bin)/([A-Za-z0-9_-]+)", line):
            if name not in bins:
                problem(f"{path.name}: names binary {name!r}, not a workspace bin ({sorted(bins)})")


def check_web_dockerfile(path: Path) -> None:
    package = json.loads((path.parent / "package.json").read_text())
    scripts = package.get("scripts", {})
    text = path.read_text()
    for script in re.findall(r"npm run ([\w:-]+)", text):
        if script not in scripts:
            problem(f"web/Dockerfile: runs `npm run {script}`, not a script in web/package.json")
    lock_path = path.parent / "package-lock.json"
    if "npm ci" in text and not lock_path.exists():
        problem("web/Dockerfile: `npm ci` needs web/package-lock.json")
        return
    # A tool run from node_modules/.bin must be installed at the top level
    # by the lock file (esbuild comes in through tsx and vite).
    locked = json.loads(lock_path.read_text()).get("packages", {}) if lock_path.exists() else {}
    for tool in sorted(set(re.findall(r"node_modules/\.bin/([\w.-]+)", text))):
        if not any(tool in (meta.get("bin") or {}) for key, meta in locked.items() if key.count("node_modules/") == 1):
            problem(f"web/Dockerfile: runs node_modules/.bin/{tool}, which no top-level package in web/package-lock.json provides")


def env_values(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.split("=", 1) for item in environment)
        return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def main() -> int:
    services = load_services()
    bins, packages = workspace_bins()

    for missing in sorted(REQUIRED_SERVICES - set(services)):
        problem(f"service {missing!r} is missing")

    dockerfiles: dict[Path, Dockerfile] = {}
    for name, service in services.items():
        profiles = service.get("profiles") or []

        # Health checks, and what they run.
        health = service.get("healthcheck")
        if not health or health.get("disable") or not health.get("test"):
            problem(f"{name}: no health check")

        # depends_on: services, waited on until healthy.
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problem(f"{name}: depends_on as a list does not wait for health; use condition: service_healthy")
            depends = {d: {} for d in depends}
        for target, how in depends.items():
            if target not in services:
                problem(f"{name}: depends_on {target!r}, which is not a service")
            elif (how or {}).get("condition") != "service_healthy":
                problem(f"{name}: depends_on {target!r} without condition: service_healthy")
            elif not (services[target] or {}).get("healthcheck"):
                problem(f"{name}: waits for {target!r} to be healthy, but it has no health check")

        # Build context, Dockerfile, target.
        build = service.get("build")
        if build is not None:
            if isinstance(build, str):
                build = {"context": build}
            context = ROOT / build.get("context", ".")
            dockerfile_path = context / build.get("dockerfile", "Dockerfile")
            if not context.is_dir():
                problem(f"{name}: build context {context.relative_to(ROOT)} does not exist")
            elif not dockerfile_path.is_file():
                problem(f"{name}: {dockerfile_path.relative_to(ROOT)} does not exist")
            else:
                dockerfile = dockerfiles.setdefault(dockerfile_path, Dockerfile(dockerfile_path))
                target = build.get("target")
                if target and target not in dockerfile.stages():
                    problem(f"{name}: build target {target!r} is not a stage of {dockerfile_path.relative_to(ROOT)}")
                test = (health or {}).get("test") or []
                if isinstance(test, list) and len(test) > 1 and test[0] == "CMD":
                    binary = test[1]
                    if binary.startswith("/usr/local/bin/"):
                        installed = dockerfile.binaries_in(target) if target else set()
                        if binary.rsplit("/", 1)[1] not in installed:
                            problem(f"{name}: health check runs {binary}, which its image ({target}) does not have")

        # Scaling and published ports.
        if name == SCALED:
            if "container_name" in service:
                problem(f"{name}: container_name prevents --scale")
            if service.get("ports"):
                problem(f"{name}: published ports prevent --scale (the edge reaches it by name)")
        if service.get("ports") and name not in PUBLISHED and not profiles:
            problem(f"{name}: publishes ports; only {sorted(PUBLISHED)} should")

        # URLs in the environment name services.
        for key, value in env_values(service).items():
            for host in re.findall(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([A-Za-z0-9_.-]+)", value):
                if host not in services and host not in {"localhost", "127.0.0.1", "0.0.0.0"}:
                    problem(f"{name}: {key} points at {host!r}, which is not a service")

    # A `# syntax=` line makes BuildKit fetch its frontend from a registry:
    # the built-in one does everything these files use, and works offline.
    for path in (ROOT / "Dockerfile", ROOT / "web" / "Dockerfile"):
        if path.is_file() and re.match(r"#\s*syntax\s*=", path.read_text(), re.I):
            problem(f"{path.relative_to(ROOT)}: drop the `# syntax=` line (it pulls a frontend image)")

    root_dockerfile = ROOT / "Dockerfile"
    if root_dockerfile.is_file():
        check_rust_dockerfile(root_dockerfile, bins, packages)
    web_dockerfile = ROOT / "web" / "Dockerfile"
    if web_dockerfile.is_file():
        check_web_dockerfile(web_dockerfile)

    # Variables: every one read is documented in .env.example; the required
    # ones are set there (`just env` fills them).
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    required = set(re.findall(r"\$\{([A-Z0-9_]+):?\?", text))
    example_path = ROOT / ".env.example"
    example = example_path.read_text() if example_path.exists() else ""
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, re.M))
    set_there = set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))
    for var in sorted(used - documented):
        problem(f".env.example: {var} (read by docker-compose.yml) is not documented")
    for var in sorted(required - set_there):
        problem(f".env.example: {var} is required by docker-compose.yml but not set")

    for line in problems:
        print(f"compose-check: {line}", file=sys.stderr)
    if not problems:
        print(f"compose-check: {len(services)} services, references ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
