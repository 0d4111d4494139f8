"""The stack under test and how to talk to it, for the compose checks.

`tests/compose/run.sh` starts the stack and hands it over in three variables:
COMPOSE_TEST_PROJECT (the compose project name), COMPOSE_TEST_ENV_FILE (its
env file: secrets, ports, mode) and COMPOSE_TEST_FILES (the compose files,
separated by ':'). Every `docker compose` call here uses exactly those, with
an environment holding nothing else, so a developer's shell variables or
.env never leak in.

Users are real: they sign up with the web app's Better Auth and get their
JWT from /api/auth/token with the session cookie, as the browser does.
"""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 15


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class CheckFailed(Exception):
    """A property the stack must have does not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- the env file -----------------------------------------------------------


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def write_env(path: Path, **settings: str) -> None:
    """Sets KEY=value in the env file: replaces the key's lines, or appends.
    An empty value removes the key (so compose's default applies)."""
    lines = path.read_text().splitlines()
    kept = [
        line
        for line in lines
        if line.split("=", 1)[0].strip() not in settings or line.lstrip().startswith("#")
    ]
    kept += [f"{key}={value}" for key, value in settings.items() if value != ""]
    path.write_text("\n".join(kept) + "\n")


# --- HTTP -------------------------------------------------------------------


@dataclass
class Response:
    status: int  # 0: no HTTP response at all (connection refused, reset, timeout)
    headers: dict[str, str]
    body: bytes
    error: str = ""

    def json(self):
        return json.loads(self.body)

    def describe(self) -> str:
        if self.status == 0:
            return f"no response ({self.error})"
        return f"{self.status} {self.body[:300].decode(errors='replace')}"


def request(
    method: str,
    url: str,
    *,
    body: object | None = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> Response:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("content-type", "application/json")
    open_ = (opener or urllib.request.build_opener()).open
    try:
        with open_(req, timeout=HTTP_TIMEOUT) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Response(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())
    except (urllib.error.URLError, OSError) as err:
        return Response(0, {}, b"", error=str(getattr(err, "reason", err)))


def jwt_header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- the stack --------------------------------------------------------------


class Stack:
    def __init__(self) -> None:
        self.project = os.environ["COMPOSE_TEST_PROJECT"]
        self.env_file = Path(os.environ["COMPOSE_TEST_ENV_FILE"])
        self.files = os.environ["COMPOSE_TEST_FILES"].split(":")

    @property
    def env(self) -> dict[str, str]:
        return read_env(self.env_file)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.env['WEB_PORT']}"

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.env['EDGE_PORT']}"

    @property
    def origin(self) -> str:
        """The web app's origin as the browser sees it (BETTER_AUTH_URL)."""
        return self.env["BETTER_AUTH_URL"]

    def compose(self, *args: str, capture: bool = False) -> str:
        command = ["docker", "compose", "-p", self.project, "--env-file", str(self.env_file)]
        for file in self.files:
            command += ["-f", file]
        command += list(args)
        clean_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG")}
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=clean_env,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
        )
        if result.returncode != 0:
            detail = (result.stderr or "").strip() if capture else ""
            raise CheckFailed(f"`docker compose {' '.join(args)}` failed ({result.returncode}) {detail}")
        return result.stdout or ""

    def up(self, tasks: int = 3) -> None:
        """`up -d --wait` with `tasks` replicas; returns once all are healthy."""
        self.compose(
            "up", "-d", "--no-build", "--wait", "--wait-timeout", "300", "--scale", f"tasks={tasks}"
        )

    def containers(self, service: str) -> list[Container]:
        """The service's running containers, by replica number."""
        ids = self.compose("ps", "-q", service, capture=True).split()
        found = [Container.inspect(i) for i in ids]
        return sorted(found, key=lambda c: c.number)

    def wait_healthy(self, service: str, count: int, deadline_s: float = 120) -> list[Container]:
        """Waits until `count` containers of `service` run and are healthy."""
        end = time.monotonic() + deadline_s
        while True:
            found = [c for c in self.containers(service) if c.health() == "healthy"]
            if len(found) == count:
                return found
            if time.monotonic() > end:
                raise CheckFailed(f"{service}: {len(found)} healthy containers, wanted {count}")
            time.sleep(1)

    def run_detached(self, service: str, **env: str) -> Container:
        """Another container of `service` (`docker compose run -d --no-deps`,
        with `env` added): same image, settings and network, no published
        ports, so it can run beside the service's own containers. Not part of
        `containers(service)`; remove it with `docker rm -f`."""
        args = ["run", "-d", "--no-deps"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        name = self.compose(*args, service, capture=True).strip().splitlines()[-1]
        return Container.inspect(name)

    def psql(self, sql: str) -> str:
        """Runs SQL in the postgres container as the database owner."""
        return self.compose(
            "exec", "-T", "postgres", "psql", "-U", "todo", "-d", "todo", "-v", "ON_ERROR_STOP=1",
            "-At", "-c", sql, capture=True,
        )


@dataclass
class Container:
    """One container of the project: its replica number and address."""

    id: str
    name: str
    number: int
    ip: str

    @staticmethod
    def inspect(container_id: str) -> Container:
        info = json.loads(docker("inspect", container_id))[0]
        networks = info["NetworkSettings"]["Networks"]
        ip = next((n["IPAddress"] for n in networks.values() if n.get("IPAddress")), "")
        labels = info["Config"]["Labels"]
        return Container(
            id=info["Id"],
            name=info["Name"].lstrip("/"),
            number=int(labels.get("com.docker.compose.container-number", "0")),
            ip=ip,
        )

    def health(self) -> str:
        out = docker("inspect", "-f", "{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}", self.id)
        status, _, health = out.strip().partition("/")
        return health if status == "running" else status

    def restart_count(self) -> int:
        return int(docker("inspect", "-f", "{{.RestartCount}}", self.id).strip())

    def main_pid(self, command: str) -> int:
        """The host PID of the process running `command` in the container
        (under docker-init, with `init: true`)."""
        for line in docker("top", self.id, "-eo", "pid,comm").splitlines()[1:]:
            pid, comm = line.split(None, 1)
            if comm.strip() == command:
                return int(pid)
        raise CheckFailed(f"{self.name}: no process {command!r} running")


def docker(*args: str) -> str:
    result = subprocess.run(["docker", *args], text=True, capture_output=True)
    if result.returncode != 0:
        raise CheckFailed(f"`docker {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


# --- users ------------------------------------------------------------------


@dataclass
class User:
    """A person signed up through the web app: session cookie, JWT, and
    the edge's API on their own path."""

    stack: Stack
    email: str
    password: str
    id: str = ""
    token: str = ""
    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    @classmethod
    def sign_up(cls, stack: Stack, label: str) -> User:
        user = cls(stack, f"{label}-{uuid.uuid4().hex[:10]}@example.test", uuid.uuid4().hex)
        resp = user.auth("POST", "/api/auth/sign-up/email", {"email": user.email, "password": user.password, "name": label})
        expect(resp.status == 200, f"sign-up of {user.email}: {resp.describe()}")
        user.id = resp.json()["user"]["id"]
        user.refresh_token()
        return user

    def _opener(self) -> urllib.request.OpenerDirector:
        return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def auth(self, method: str, path: str, body: object | None = None) -> Response:
        """A call to Better Auth with the session cookie, from the web origin.
        Better Auth limits sign-ups and sign-ins per client address (every
        call here comes from one): on 429 this waits as told and retries."""
        for _ in range(5):
            resp = request(method, self.stack.web_url + path, body=body, headers={"origin": self.stack.origin}, opener=self._opener())
            if resp.status != 429:
                return resp
            wait = resp.headers.get("x-retry-after") or resp.headers.get("retry-after") or "5"
            log(f"{path}: 429 from Better Auth's rate limit; retrying in {wait} s")
            time.sleep(min(float(wait), 30) + 0.5)
        return resp

    def sign_in(self) -> None:
        self.cookies.clear()
        resp = self.auth("POST", "/api/auth/sign-in/email", {"email": self.email, "password": self.password})
        expect(resp.status == 200, f"sign-in of {self.email}: {resp.describe()}")

    def another_session(self) -> User:
        """The same person signed in again elsewhere (another browser): a
        second Better Auth session, with its own cookie and token."""
        other = User(self.stack, self.email, self.password, id=self.id)
        other.sign_in()
        other.refresh_token()
        return other

    def sign_out(self) -> None:
        """The Sign out button: POST /api/auth/sign-out with the cookie."""
        resp = self.auth("POST", "/api/auth/sign-out", {})
        expect(resp.status == 200, f"sign-out of {self.email}: {resp.describe()}")

    def refresh_token(self) -> str:
        """A fresh JWT from /api/auth/token with the session cookie."""
        resp = self.auth("GET", "/api/auth/token")
        expect(resp.status == 200, f"/api/auth/token for {self.email}: {resp.describe()}")
        self.token = resp.json()["token"]
        expect(jwt_claims(self.token).get("sub") == self.id, "the token's sub is not the user's id")
        return self.token

    def api(self, method: str, path: str = "", body: object | None = None, *, token: str | None = None, user_id: str | None = None) -> Response:
        """A call to the edge on /api/{user_id}/tasks{path}."""
        url = f"{self.stack.edge_url}/api/{user_id or self.id}/tasks{path}"
        headers = {"authorization": f"Bearer {token or self.token}", "origin": self.stack.origin}
        return request(method, url, body=body, headers=headers)

    def tasks(self) -> list[dict]:
        """Every task of the user, page by page (1000 is the largest page)."""
        found: list[dict] = []
        while True:
            resp = self.api("GET", f"?limit=1000&offset={len(found)}")
            expect(resp.status == 200, f"listing {self.email}'s tasks: {resp.describe()}")
            page = resp.json()
            found += page
            if len(page) < 1000:
                return found


def eventually(what: str, attempt, deadline_s: float = 60, pause_s: float = 1.0):
    """Calls attempt() until it returns a true value, or fails after the
    deadline with the last value. For recovery after a restart: not a timing
    assertion, a bound on how long to wait."""
    end = time.monotonic() + deadline_s
    while True:
        value = attempt()
        if value:
            return value
        if time.monotonic() > end:
            raise CheckFailed(f"{what}: still not so after {deadline_s:.0f} s (last: {value!r})")
        time.sleep(pause_s)


def main(check) -> None:
    """Runs one check; exit 1 with the reason when it fails."""
    try:
        check(Stack())
    except CheckFailed as failure:
        log(f"FAILED: {failure}")
        sys.exit(1)


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now (bound together, so all differ)."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("0.0.0.0", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


if __name__ == "__main__":
    # For run.sh: `stack.py free-ports N` and `stack.py set-env FILE KEY=VALUE…`.
    if sys.argv[1:2] == ["free-ports"]:
        print(*free_ports(int(sys.argv[2])))
    elif sys.argv[1:2] == ["set-env"]:
        write_env(Path(sys.argv[2]), **dict(arg.split("=", 1) for arg in sys.argv[3:]))
    else:
        sys.exit("usage: stack.py free-ports N | set-env FILE KEY=VALUE...")
