"""The comparators `just bench-load` runs beside the edge (BENCH_ONLY=compare):
the same list route and 401 written as the seed designed it (FastAPI +
PyJWT + SQLAlchemy under uvicorn, 2 workers; bench/compare/fastapi) and as
a Next.js team would write it (plain `node:http` + `jose` + `pg`, 2 cluster
workers; bench/compare/node). Their dependencies are installed by `just
bench-compare-deps` (a venv, and `npm ci`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent / "compare"
FASTAPI = HERE / "fastapi"
NODE = HERE / "node"
VENV_PYTHON = FASTAPI / ".venv" / "bin" / "python"


def missing() -> str | None:
    """What is not installed yet, if anything."""
    if not VENV_PYTHON.exists():
        return f"{VENV_PYTHON} (run `just bench-compare-deps`)"
    if not (NODE / "node_modules" / "jose").is_dir():
        return f"{NODE / 'node_modules'} (run `just bench-compare-deps`)"
    return None


def env(database_url: str, secret: str, issuer: str, port: int, path: str) -> dict[str, str]:
    return {
        "PATH": path,
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": secret,
        "BETTER_AUTH_URL": issuer,
        "PORT": str(port),
    }


def start_fastapi(settings: dict[str, str], log: Path) -> subprocess.Popen:
    """uvicorn with 2 workers; SQLAlchemy wants `postgresql://`. Ready
    when its log says "Application startup complete." twice."""
    settings = settings | {"DATABASE_URL": settings["DATABASE_URL"].replace("postgres://", "postgresql://", 1)}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(VENV_PYTHON), "-m", "uvicorn", "app:app", "--workers", "2", "--host", "127.0.0.1",
             "--port", settings["PORT"], "--no-access-log"],
            cwd=FASTAPI, env=settings, stdout=out, stderr=out,
        )


def start_node(settings: dict[str, str], log: Path) -> subprocess.Popen:
    """2 cluster workers; prints its address once both listen."""
    with open(log, "ab") as out:
        return subprocess.Popen(["node", "server.mjs"], cwd=NODE, env=settings | {"WORKERS": "2"},
                                stdout=out, stderr=out)
