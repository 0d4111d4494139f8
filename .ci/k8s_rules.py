#!/usr/bin/env python3
"""Our own rules for the rendered Kubernetes manifests (deploy/kubernetes).

`just k8s-check` renders each overlay with `kubectl kustomize`, validates
every object against the Kubernetes schemas (kubernetes-validate), then runs
this on the rendered objects:

- every container has liveness and readiness probes (init containers
  excepted), CPU and memory requests and limits, runs as a non-root numeric
  user (runAsNonRoot and runAsUser ≠ 0), on a read-only root filesystem,
  without privilege escalation, privileged mode or added capabilities, with
  ALL capabilities dropped and a seccomp profile; no pod shares the host's
  network, PID or IPC namespace or mounts a volume type (hostPath…) that
  the restricted Pod Security Standard refuses;
- every Service's selector matches the pod labels of a Deployment or
  StatefulSet, and every named target port is a port of those pods;
- every secretKeyRef names a Secret key the overlay renders or documents
  (its secrets.env.example: `# secret: NAME`, then `KEY=…` lines); every
  documented key is used, and a rendered Secret that is also documented has
  exactly the documented keys; every configMapKeyRef names a key of a
  rendered ConfigMap;
- every NetworkPolicy selects existing pods, and so does every pod selector
  among its peers (same namespace);
- every container with an admin listener (`*_ADMIN_LISTEN_ADDR`) declares
  that port, named `admin`, its pod carries the matching
  `prometheus.io/scrape`, `prometheus.io/port` and `prometheus.io/path`
  annotations (and no pod has them without an admin listener), a
  NetworkPolicy lets something reach that port, and no Service exposes it;
- every HorizontalPodAutoscaler targets an existing Deployment or
  StatefulSet that leaves `replicas` to it; every PodDisruptionBudget selects
  existing pods; every Ingress backend is an existing Service port.

Usage: k8s_rules.py OVERLAY_DIR RENDERED.yaml [MORE.yaml …]
Exit 0 when all hold, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
# The volume types the `restricted` Pod Security Standard allows.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SERVED_BY = {"Deployment", "StatefulSet"}
SECRETS_DOC = "secrets.env.example"

Obj = dict[str, Any]


def load_objects(paths: Iterable[Path]) -> list[Obj]:
    objects: list[Obj] = []
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind"):
                objects.append(doc)
    return objects


def documented_secrets(overlay: Path) -> dict[str, set[str]]:
    """Secret name → keys, from the overlay's secrets.env.example."""
    path = overlay / SECRETS_DOC
    secrets: dict[str, set[str]] = {}
    if not path.is_file():
        return secrets
    current: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.lower().startswith("# secret:"):
            current = line.split(":", 1)[1].strip()
            secrets.setdefault(current, set())
        elif line and not line.startswith("#") and "=" in line and current:
            secrets[current].add(line.split("=", 1)[0].strip())
    return secrets


def name_of(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('name')}"


def namespace_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def pod_spec(obj: Obj) -> Obj | None:
    """The pod spec of a workload (CronJob: its job's template)."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template") or {}
    return template.get("spec")


def pod_labels(obj: Obj) -> dict[str, str]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def workloads(objects: list[Obj]) -> Iterator[Obj]:
    return (o for o in objects if o.get("kind") in WORKLOADS and pod_spec(o) is not None)


def selector_matches(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against labels."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pods_selected(objects: list[Obj], namespace: str, selector: Obj | None) -> list[Obj]:
    return [
        w
        for w in workloads(objects)
        if namespace_of(w) == namespace and selector_matches(selector, pod_labels(w))
    ]


def check_containers(objects: list[Obj]) -> list[str]:
    problems = []
    for workload in workloads(objects):
        spec = pod_spec(workload) or {}
        pod_sc = spec.get("securityContext") or {}
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host):
                problems.append(f"{name_of(workload)}: {host}")
        for volume in spec.get("volumes") or []:
            kinds = set(volume) - {"name"}
            if not kinds <= RESTRICTED_VOLUMES:
                problems.append(
                    f"{name_of(workload)}: volume {volume.get('name')} is {sorted(kinds)}, "
                    "not allowed by the restricted Pod Security Standard"
                )
        kinds = [("container", c) for c in spec.get("containers") or []]
        kinds += [("init container", c) for c in spec.get("initContainers") or []]
        for kind, container in kinds:
            where = f"{name_of(workload)} {kind} {container.get('name')}"
            sc = container.get("securityContext") or {}

            def effective(key: str) -> Any:
                return sc[key] if key in sc else pod_sc.get(key)

            if kind == "container":
                for probe in ("livenessProbe", "readinessProbe"):
                    if not container.get(probe):
                        problems.append(f"{where}: no {probe}")
            resources = container.get("resources") or {}
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if not (resources.get(part) or {}).get(resource):
                        problems.append(f"{where}: no {resource} {part[:-1]}")
            if effective("runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            user = effective("runAsUser")
            if not isinstance(user, int) or user == 0:
                problems.append(
                    f"{where}: no numeric non-zero runAsUser (needed to enforce runAsNonRoot)"
                )
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                problems.append(f"{where}: privileged")
            caps = sc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                problems.append(f"{where}: capabilities do not drop ALL")
            if caps.get("add"):
                problems.append(f"{where}: adds capabilities {caps['add']}")
            seccomp = (effective("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{where}: no RuntimeDefault seccomp profile")
    return problems


def container_ports(workload: Obj) -> tuple[set[str], set[int]]:
    names: set[str] = set()
    numbers: set[int] = set()
    for container in (pod_spec(workload) or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name"):
                names.add(port["name"])
            numbers.add(port.get("containerPort"))
    return names, numbers


def check_services(objects: list[Obj]) -> list[str]:
    problems = []
    for svc in (o for o in objects if o.get("kind") == "Service"):
        spec = svc.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue
        selector = spec.get("selector") or {}
        if not selector:
            problems.append(f"{name_of(svc)}: no selector")
            continue
        backends = [
            w
            for w in pods_selected(objects, namespace_of(svc), {"matchLabels": selector})
            if w.get("kind") in SERVED_BY
        ]
        if not backends:
            problems.append(
                f"{name_of(svc)}: selector {selector} matches no Deployment or StatefulSet pods"
            )
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for backend in backends:
                names, numbers = container_ports(backend)
                if (isinstance(target, str) and target not in names) or (
                    isinstance(target, int) and target not in numbers
                ):
                    problems.append(
                        f"{name_of(svc)}: target port {target!r} is not a port of {name_of(backend)}"
                    )
    return problems


def env_refs(workload: Obj) -> Iterator[tuple[str, str, str]]:
    """(kind, name, key) of every secretKeyRef / configMapKeyRef."""
    spec = pod_spec(workload) or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for kind, field in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                ref = source.get(field)
                if ref:
                    yield kind, ref.get("name"), ref.get("key")


def check_refs(objects: list[Obj], documented: dict[str, set[str]]) -> list[str]:
    problems = []
    rendered: dict[tuple[str, str, str], set[str]] = {}
    for obj in objects:
        if obj.get("kind") in ("Secret", "ConfigMap"):
            keys = set((obj.get("data") or {}).keys()) | set((obj.get("stringData") or {}).keys())
            rendered[(obj["kind"], namespace_of(obj), obj["metadata"]["name"])] = keys
    used: dict[str, set[str]] = {}
    for workload in workloads(objects):
        for kind, name, key in env_refs(workload):
            if kind == "Secret":
                used.setdefault(name, set()).add(key)
            keys = rendered.get((kind, namespace_of(workload), name))
            if keys is not None and key in keys:
                continue
            if kind == "Secret" and key in documented.get(name, set()):
                continue
            what = "rendered or documented" if kind == "Secret" else "rendered"
            problems.append(
                f"{name_of(workload)}: {kind} {name!r} key {key!r} is not {what}"
            )
    for name, keys in documented.items():
        for key in sorted(keys - used.get(name, set())):
            problems.append(f"{SECRETS_DOC}: Secret {name!r} key {key!r} is used by no container")
    for (kind, _, name), keys in rendered.items():
        if kind == "Secret" and name in documented and keys != documented[name]:
            problems.append(
                f"Secret/{name}: keys {sorted(keys)} differ from {SECRETS_DOC}'s "
                f"{sorted(documented[name])}"
            )
    return problems


def check_network_policies(objects: list[Obj]) -> list[str]:
    problems = []
    for policy in (o for o in objects if o.get("kind") == "NetworkPolicy"):
        spec = policy.get("spec") or {}
        namespace = namespace_of(policy)
        if not pods_selected(objects, namespace, spec.get("podSelector")):
            problems.append(f"{name_of(policy)}: podSelector selects no pods")
        for direction, side in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                for peer in rule.get(side) or []:
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        if not pods_selected(objects, namespace, peer["podSelector"]):
                            problems.append(
                                f"{name_of(policy)}: {direction} peer "
                                f"{peer['podSelector']} selects no pods"
                            )
    return problems


def admin_ports(workload: Obj) -> list[tuple[Obj, int]]:
    """Each container's admin listener port (`*_ADMIN_LISTEN_ADDR=host:port`)."""
    found = []
    for container in (pod_spec(workload) or {}).get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name", "").endswith("_ADMIN_LISTEN_ADDR") and env.get("value"):
                port = str(env["value"]).rsplit(":", 1)[-1]
                found.append((container, int(port) if port.isdigit() else -1))
    return found


def allows_ingress(policy: Obj, port: int) -> bool:
    for rule in (policy.get("spec") or {}).get("ingress") or []:
        for allowed in rule.get("ports") or []:
            if allowed.get("port") in (port, "admin"):
                return True
    return False


def check_metrics(objects: list[Obj]) -> list[str]:
    problems = []
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    services = [o for o in objects if o.get("kind") == "Service"]
    for workload in workloads(objects):
        name = name_of(workload)
        namespace = namespace_of(workload)
        labels = pod_labels(workload)
        template = (workload.get("spec") or {}).get("template") or {}
        annotations = (template.get("metadata") or {}).get("annotations") or {}
        ports = admin_ports(workload)
        if not ports and "prometheus.io/scrape" in annotations:
            problems.append(f"{name}: prometheus.io/scrape without an *_ADMIN_LISTEN_ADDR")
        for container, port in ports:
            declared = [
                p for p in container.get("ports") or [] if p.get("containerPort") == port
            ]
            if not any(p.get("name") == "admin" for p in declared):
                problems.append(
                    f"{name}: container {container.get('name')}: admin port {port} "
                    "is not declared as port `admin`"
                )
            wanted = {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(port),
                "prometheus.io/path": "/metrics",
            }
            for key, value in wanted.items():
                if annotations.get(key) != value:
                    problems.append(f"{name}: pod annotation {key} is not {value!r}")
            if not any(
                namespace_of(policy) == namespace
                and selector_matches((policy.get("spec") or {}).get("podSelector"), labels)
                and allows_ingress(policy, port)
                for policy in policies
            ):
                problems.append(f"{name}: no NetworkPolicy lets a scraper reach admin port {port}")
            for svc in services:
                spec = svc.get("spec") or {}
                if not spec.get("selector"):
                    continue
                if namespace_of(svc) != namespace or not selector_matches(
                    {"matchLabels": spec.get("selector") or {}}, labels
                ):
                    continue
                for svc_port in spec.get("ports") or []:
                    if svc_port.get("targetPort", svc_port.get("port")) in (port, "admin"):
                        problems.append(f"{name_of(svc)}: exposes {name}'s admin port {port}")
    return problems


def check_scaling(objects: list[Obj]) -> list[str]:
    problems = []
    for hpa in (o for o in objects if o.get("kind") == "HorizontalPodAutoscaler"):
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        targets = [
            o
            for o in objects
            if o.get("kind") == ref.get("kind")
            and o.get("kind") in SERVED_BY
            and namespace_of(o) == namespace_of(hpa)
            and o["metadata"]["name"] == ref.get("name")
        ]
        if not targets:
            problems.append(f"{name_of(hpa)}: target {ref.get('kind')}/{ref.get('name')} missing")
        for target in targets:
            if "replicas" in (target.get("spec") or {}):
                problems.append(
                    f"{name_of(target)}: sets replicas although {name_of(hpa)} scales it"
                )
    for pdb in (o for o in objects if o.get("kind") == "PodDisruptionBudget"):
        selector = (pdb.get("spec") or {}).get("selector")
        if not pods_selected(objects, namespace_of(pdb), selector):
            problems.append(f"{name_of(pdb)}: selector selects no pods")
    return problems


def check_ingresses(objects: list[Obj]) -> list[str]:
    problems = []
    services = {
        (namespace_of(o), o["metadata"]["name"]): o for o in objects if o.get("kind") == "Service"
    }
    for ingress in (o for o in objects if o.get("kind") == "Ingress"):
        for rule in (ingress.get("spec") or {}).get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = (path.get("backend") or {}).get("service") or {}
                svc = services.get((namespace_of(ingress), backend.get("name")))
                if svc is None:
                    problems.append(f"{name_of(ingress)}: no Service {backend.get('name')!r}")
                    continue
                port = backend.get("port") or {}
                field, wanted = ("name", port["name"]) if "name" in port else ("port", port.get("number"))
                ports = (svc.get("spec") or {}).get("ports") or []
                if not any(p.get(field) == wanted for p in ports):
                    problems.append(
                        f"{name_of(ingress)}: Service {backend.get('name')!r} has no port {wanted!r}"
                    )
    return problems


def check(objects: list[Obj], documented: dict[str, set[str]]) -> list[str]:
    return (
        check_containers(objects)
        + check_services(objects)
        + check_refs(objects, documented)
        + check_network_policies(objects)
        + check_metrics(objects)
        + check_scaling(objects)
        + check_ingresses(objects)
    )


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    overlay = Path(argv[1])
    objects = load_objects(Path(p) for p in argv[2:])
    problems = check(objects, documented_secrets(overlay))
    for problem in problems:
        print(f"{overlay}: {problem}")
    if problems:
        return 1
    containers = sum(
        len((pod_spec(w) or {}).get("containers") or [])
        + len((pod_spec(w) or {}).get("initContainers") or [])
        for w in workloads(objects)
    )
    print(f"{overlay}: {len(objects)} objects, {containers} containers: our rules hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
