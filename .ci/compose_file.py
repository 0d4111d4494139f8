"""Reading docker-compose.yml (and the other YAML files beside it) the one
way every check in .ci/ reads it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def load_yaml(path: Path):
    """The document in `path`: ruamel.yaml (installed with check-jsonschema)
    when present, else PyYAML."""
    try:
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(path.read_text())
    except ImportError:
        import yaml

        return yaml.safe_load(path.read_text())


def load_services() -> dict[str, dict]:
    """docker-compose.yml's services by name; a service written empty is {}."""
    compose = load_yaml(COMPOSE) or {}
    return {name: service or {} for name, service in (compose.get("services") or {}).items()}
