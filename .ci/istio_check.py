#!/usr/bin/env python3
"""Offline checks of the Istio snippets in deploy/istio/ (no cluster, no
Istio schemas here: kubernetes-validate knows only Kubernetes' own kinds).

- every field of the AuthorizationPolicy and of the IstioOperator's
  meshConfig is one Istio's APIs define (security.istio.io/v1
  AuthorizationPolicy; MeshConfig's pathNormalization and
  extensionProviders[].envoyExtAuthzGrpc), so a misspelt field, which Istio
  would silently drop, fails here; enum values are Istio's;
- the policy's action is CUSTOM and names a provider the mesh config
  declares; the provider fails closed (failOpen false);
- the provider's service is `<Service>.<namespace>.svc.cluster.local` for a
  Service of deploy/kubernetes/base serving auth-verify on that port, in
  the namespace the policy is in (the prod overlay's).

Usage: istio_check.py [DEPLOY_DIR]  (default: deploy). Exit 0 when all hold,
1 with one line per problem otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

# Istio's fields, nested: a dict is a message, a list of one dict a repeated
# message, a set an enum, None a scalar or free-form value.
OPERATION = {k: None for k in (
    "hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths")}
SOURCE = {k: None for k in (
    "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
    "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks",
    "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts")}
METADATA = {"name": None, "namespace": None, "labels": None, "annotations": None}
AUTHORIZATION_POLICY = {
    "apiVersion": {"security.istio.io/v1"},
    "kind": {"AuthorizationPolicy"},
    "metadata": METADATA,
    "spec": {
        "selector": {"matchLabels": None},
        "targetRef": None,
        "targetRefs": None,
        "action": {"ALLOW", "DENY", "AUDIT", "CUSTOM"},
        "provider": {"name": None},
        "rules": [{
            "from": [{"source": SOURCE}],
            "to": [{"operation": OPERATION}],
            "when": [{"key": None, "values": None, "notValues": None}],
        }],
    },
}
ISTIO_OPERATOR = {
    "apiVersion": {"install.istio.io/v1alpha1"},
    "kind": {"IstioOperator"},
    "metadata": METADATA,
    "spec": {
        "meshConfig": {
            "pathNormalization": {"normalization": {
                "DEFAULT", "NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"}},
            "extensionProviders": [{
                "name": None,
                "envoyExtAuthzGrpc": {
                    "service": None, "port": None, "timeout": None, "failOpen": None,
                    "statusOnError": None, "includeRequestBodyInCheck": None,
                },
            }],
        },
    },
}


def shape(value: Any, schema: Any, where: str) -> list[str]:
    """Where `value` leaves `schema` (unknown fields, wrong nesting, enums)."""
    if schema is None:
        return []
    if isinstance(schema, set):
        return [] if value in schema else [f"{where}: {value!r} is not one of {sorted(schema)}"]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value) for p in shape(item, schema[0], f"{where}[{i}]")]
    if not isinstance(value, dict):
        return [f"{where}: expected a mapping"]
    problems = [f"{where}.{key}: not a field Istio knows" for key in value if key not in schema]
    for key, sub in schema.items():
        if key in value:
            problems += shape(value[key], sub, f"{where}.{key}")
    return problems


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def check(deploy: Path) -> list[str]:
    problems: list[str] = []
    [policy] = documents(deploy / "istio/authorization-policy.yaml")
    [operator] = documents(deploy / "istio/mesh-config.yaml")
    problems += shape(policy, AUTHORIZATION_POLICY, "authorization-policy.yaml")
    problems += shape(operator, ISTIO_OPERATOR, "mesh-config.yaml")
    if problems:
        return problems

    spec = policy["spec"]
    providers = {p["name"]: p for p in operator["spec"]["meshConfig"]["extensionProviders"]}
    if spec.get("action") != "CUSTOM":
        problems.append("authorization-policy.yaml: action must be CUSTOM")
    provider = providers.get(spec.get("provider", {}).get("name"))
    if provider is None or "envoyExtAuthzGrpc" not in provider:
        return problems + [
            f"authorization-policy.yaml: provider {spec.get('provider')} is not an "
            f"envoyExtAuthzGrpc provider of mesh-config.yaml ({sorted(providers)})"]
    grpc = provider["envoyExtAuthzGrpc"]
    if grpc.get("failOpen", False) is not False:
        problems.append("mesh-config.yaml: the provider must fail closed (failOpen: false)")

    namespace = policy["metadata"].get("namespace")
    prod = yaml.safe_load((deploy / "kubernetes/overlays/prod/kustomization.yaml").read_text())
    if namespace != prod.get("namespace"):
        problems.append(
            f"authorization-policy.yaml: namespace {namespace!r} is not the prod overlay's "
            f"{prod.get('namespace')!r}")
    services = {
        d["metadata"]["name"]: d
        for d in documents(deploy / "kubernetes/base/auth-verify.yaml")
        if d.get("kind") == "Service"
    }
    name, _, rest = str(grpc.get("service")).partition(".")
    if rest != f"{namespace}.svc.cluster.local" or name not in services:
        problems.append(
            f"mesh-config.yaml: service {grpc.get('service')!r} is not one of auth-verify's "
            f"Services ({sorted(services)}) as <name>.{namespace}.svc.cluster.local")
    elif grpc.get("port") not in [p["port"] for p in services[name]["spec"]["ports"]]:
        problems.append(f"mesh-config.yaml: port {grpc.get('port')} is not a port of {name}")
    return problems


def main() -> int:
    deploy = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy")
    problems = check(deploy)
    for problem in problems:
        print(problem)
    if not problems:
        print("istio-check: deploy/istio matches Istio's fields and deploy/kubernetes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
