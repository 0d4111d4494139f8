"""Tests of .ci/k8s_rules.py: a small, valid set of objects passes, and each
deliberately broken copy of it is caught with the matching message.

Run by `just k8s-check` (python3 -m unittest discover -s .ci -p 'test_k8s_*.py').
"""

import copy
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import k8s_rules  # noqa: E402

NS = "todo"
DOCUMENTED = {"todo-secrets": {"DATABASE_URL"}}


def deployment(name: str, port_name: str = "grpc", port: int = 50052) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": name}},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": name,
                            "image": f"todo-auth-bridge/{name}",
                            "ports": [{"name": port_name, "containerPort": port}],
                            "env": [
                                {
                                    "name": "DATABASE_URL",
                                    "valueFrom": {
                                        "secretKeyRef": {
                                            "name": "todo-secrets",
                                            "key": "DATABASE_URL",
                                        }
                                    },
                                },
                                {
                                    "name": "RUST_LOG",
                                    "valueFrom": {
                                        "configMapKeyRef": {"name": "todo-config", "key": "RUST_LOG"}
                                    },
                                },
                            ],
                            "readinessProbe": {"grpc": {"port": port}},
                            "livenessProbe": {"grpc": {"port": port}},
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "32Mi"},
                                "limits": {"cpu": "1", "memory": "64Mi"},
                            },
                            "securityContext": {
                                "readOnlyRootFilesystem": True,
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        },
    }


def with_admin_listener(workload: dict, port: int) -> dict:
    """`workload` with a metrics listener, declared and annotated."""
    template = workload["spec"]["template"]
    template["metadata"]["annotations"] = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    main = template["spec"]["containers"][0]
    main["ports"].append({"name": "admin", "containerPort": port})
    main["env"].append({"name": "TASKS_ADMIN_LISTEN_ADDR", "value": f"0.0.0.0:{port}"})
    return workload


def good_objects() -> list:
    tasks = with_admin_listener(deployment("tasks"), 9152)
    edge = deployment("edge", "http", 8080)
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "todo-config", "namespace": NS},
            "data": {"RUST_LOG": "info"},
        },
        tasks,
        edge,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "tasks-headless", "namespace": NS},
            "spec": {
                "clusterIP": "None",
                "selector": {"app.kubernetes.io/name": "tasks"},
                "ports": [{"name": "grpc", "port": 50052, "targetPort": "grpc"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "edge", "namespace": NS},
            "spec": {
                "selector": {"app.kubernetes.io/name": "edge"},
                "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "tasks", "namespace": NS},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "tasks"}},
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "edge"}}}
                        ]
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-metrics-scrape", "namespace": NS},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "tasks"}},
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                                }
                            }
                        ],
                        "ports": [{"port": 9152, "protocol": "TCP"}],
                    }
                ],
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "tasks", "namespace": NS},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "tasks"},
                "minReplicas": 2,
                "maxReplicas": 4,
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "tasks", "namespace": NS},
            "spec": {
                "maxUnavailable": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": "tasks"}},
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "todo", "namespace": NS},
            "spec": {
                "rules": [
                    {
                        "host": "api.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": "edge", "port": {"name": "http"}}
                                    },
                                }
                            ]
                        },
                    }
                ]
            },
        },
    ]


def find(objects: list, kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def container(objects: list, name: str = "tasks") -> dict:
    return find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


class Rules(unittest.TestCase):
    def assertCaught(self, objects: list, fragment: str, documented=DOCUMENTED) -> None:
        problems = k8s_rules.check(objects, documented)
        self.assertTrue(
            any(fragment in p for p in problems),
            f"expected a problem containing {fragment!r}, got {problems}",
        )

    def test_good_objects_pass(self):
        self.assertEqual(k8s_rules.check(good_objects(), DOCUMENTED), [])

    def test_missing_probes(self):
        for probe in ("livenessProbe", "readinessProbe"):
            objects = good_objects()
            del container(objects)[probe]
            self.assertCaught(objects, f"container tasks: no {probe}")

    def test_missing_requests_and_limits(self):
        objects = good_objects()
        del container(objects)["resources"]["limits"]["memory"]
        self.assertCaught(objects, "no memory limit")
        objects = good_objects()
        del container(objects)["resources"]["requests"]
        self.assertCaught(objects, "no cpu request")

    def test_root_is_refused(self):
        objects = good_objects()
        find(objects, "Deployment", "tasks")["spec"]["template"]["spec"]["securityContext"][
            "runAsNonRoot"
        ] = False
        self.assertCaught(objects, "runAsNonRoot is not true")
        objects = good_objects()
        container(objects)["securityContext"]["runAsUser"] = 0
        self.assertCaught(objects, "no numeric non-zero runAsUser")

    def test_writable_root_filesystem(self):
        objects = good_objects()
        container(objects)["securityContext"]["readOnlyRootFilesystem"] = False
        self.assertCaught(objects, "readOnlyRootFilesystem is not true")

    def test_privilege_escalation_and_capabilities(self):
        objects = good_objects()
        del container(objects)["securityContext"]["allowPrivilegeEscalation"]
        self.assertCaught(objects, "allowPrivilegeEscalation is not false")
        objects = good_objects()
        container(objects)["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}
        self.assertCaught(objects, "capabilities do not drop ALL")
        self.assertCaught(objects, "adds capabilities")

    def test_host_namespaces_and_host_paths(self):
        objects = good_objects()
        pod = find(objects, "Deployment", "tasks")["spec"]["template"]["spec"]
        pod["hostNetwork"] = True
        pod["volumes"] = [{"name": "tmp", "emptyDir": {}}, {"name": "root", "hostPath": {"path": "/"}}]
        self.assertCaught(objects, "Deployment/tasks: hostNetwork")
        self.assertCaught(objects, "volume root is ['hostPath']")
        self.assertFalse(any("volume tmp" in p for p in k8s_rules.check(objects, DOCUMENTED)))

    def test_init_containers_are_checked_too(self):
        objects = good_objects()
        init = copy.deepcopy(container(objects))
        init["name"] = "migrate"
        del init["livenessProbe"], init["readinessProbe"]
        init["securityContext"]["readOnlyRootFilesystem"] = False
        find(objects, "Deployment", "tasks")["spec"]["template"]["spec"]["initContainers"] = [init]
        problems = k8s_rules.check(objects, DOCUMENTED)
        self.assertEqual(
            problems,
            ["Deployment/tasks init container migrate: readOnlyRootFilesystem is not true"],
        )

    def test_service_selector_must_match_pods(self):
        objects = good_objects()
        find(objects, "Service", "tasks-headless")["spec"]["selector"] = {
            "app.kubernetes.io/name": "taks"
        }
        self.assertCaught(objects, "Service/tasks-headless: selector")

    def test_service_target_port_must_exist(self):
        objects = good_objects()
        find(objects, "Service", "edge")["spec"]["ports"][0]["targetPort"] = "grpc"
        self.assertCaught(objects, "target port 'grpc' is not a port of Deployment/edge")

    def test_secret_key_must_be_documented(self):
        objects = good_objects()
        container(objects)["env"][0]["valueFrom"]["secretKeyRef"]["key"] = "DATABASE_ULR"
        self.assertCaught(
            objects, "Secret 'todo-secrets' key 'DATABASE_ULR' is not rendered or documented"
        )

    def test_documented_key_must_be_used(self):
        documented = {"todo-secrets": {"DATABASE_URL", "OLD_SECRET"}}
        self.assertCaught(good_objects(), "key 'OLD_SECRET' is used by no container", documented)

    def test_rendered_secret_must_match_its_documentation(self):
        objects = good_objects()
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "todo-secrets", "namespace": NS},
                "data": {"DATABASE_URL": "eA==", "EXTRA": "eA=="},
            }
        )
        self.assertCaught(objects, "Secret/todo-secrets: keys")

    def test_config_map_key_must_exist(self):
        objects = good_objects()
        container(objects)["env"][1]["valueFrom"]["configMapKeyRef"]["key"] = "RUST_LGO"
        self.assertCaught(objects, "ConfigMap 'todo-config' key 'RUST_LGO' is not rendered")

    def test_network_policy_must_select_pods(self):
        objects = good_objects()
        find(objects, "NetworkPolicy", "tasks")["spec"]["podSelector"] = {
            "matchLabels": {"app.kubernetes.io/name": "task"}
        }
        self.assertCaught(objects, "NetworkPolicy/tasks: podSelector selects no pods")
        objects = good_objects()
        peer = find(objects, "NetworkPolicy", "tasks")["spec"]["ingress"][0]["from"][0]
        peer["podSelector"] = {
            "matchExpressions": [
                {"key": "app.kubernetes.io/name", "operator": "In", "values": ["egde"]}
            ]
        }
        self.assertCaught(objects, "ingress peer")

    def test_admin_listener_is_declared_annotated_reachable_and_private(self):
        def annotations(objects: list) -> dict:
            template = find(objects, "Deployment", "tasks")["spec"]["template"]
            return template["metadata"]["annotations"]

        objects = good_objects()
        container(objects)["ports"].pop()
        self.assertCaught(objects, "admin port 9152 is not declared as port `admin`")
        objects = good_objects()
        annotations(objects)["prometheus.io/port"] = "9180"
        self.assertCaught(objects, "pod annotation prometheus.io/port is not '9152'")
        objects = good_objects()
        del annotations(objects)["prometheus.io/scrape"]
        self.assertCaught(objects, "pod annotation prometheus.io/scrape is not 'true'")
        objects = good_objects()
        objects.remove(find(objects, "NetworkPolicy", "allow-metrics-scrape"))
        self.assertCaught(objects, "no NetworkPolicy lets a scraper reach admin port 9152")
        objects = good_objects()
        ports = find(objects, "Service", "tasks-headless")["spec"]["ports"]
        ports.append({"name": "metrics", "port": 9152, "targetPort": "admin"})
        self.assertCaught(objects, "Service/tasks-headless: exposes")
        objects = good_objects()
        edge = find(objects, "Deployment", "edge")["spec"]["template"]["metadata"]
        edge["annotations"] = {"prometheus.io/scrape": "true"}
        self.assertCaught(objects, "prometheus.io/scrape without an *_ADMIN_LISTEN_ADDR")

    def test_autoscaler_target_and_replicas(self):
        objects = good_objects()
        find(objects, "HorizontalPodAutoscaler", "tasks")["spec"]["scaleTargetRef"]["name"] = "x"
        self.assertCaught(objects, "target Deployment/x missing")
        objects = good_objects()
        find(objects, "Deployment", "tasks")["spec"]["replicas"] = 3
        self.assertCaught(objects, "sets replicas although")

    def test_disruption_budget_must_select_pods(self):
        objects = good_objects()
        find(objects, "PodDisruptionBudget", "tasks")["spec"]["selector"] = {
            "matchLabels": {"app": "tasks"}
        }
        self.assertCaught(objects, "PodDisruptionBudget/tasks: selector selects no pods")

    def test_ingress_backend_must_exist(self):
        objects = good_objects()
        rule = find(objects, "Ingress", "todo")["spec"]["rules"][0]
        rule["http"]["paths"][0]["backend"]["service"]["port"] = {"number": 80}
        self.assertCaught(objects, "has no port 80")

    def test_other_namespace_does_not_count(self):
        objects = good_objects()
        find(objects, "Deployment", "tasks")["metadata"]["namespace"] = "elsewhere"
        self.assertCaught(objects, "Service/tasks-headless: selector")


class CommandLine(unittest.TestCase):
    def run_rules(self, objects: list) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory() as tmp:
            overlay = Path(tmp)
            (overlay / "secrets.env.example").write_text(
                "# secret: todo-secrets\n# a comment\nDATABASE_URL=change-me\n"
            )
            rendered = overlay / "rendered.yaml"
            rendered.write_text(yaml.safe_dump_all(objects))
            return subprocess.run(
                [sys.executable, str(Path(k8s_rules.__file__)), str(overlay), str(rendered)],
                capture_output=True,
                text=True,
            )

    def test_exit_status_and_report(self):
        passed = self.run_rules(good_objects())
        self.assertEqual(passed.returncode, 0, passed.stdout + passed.stderr)
        self.assertIn("our rules hold", passed.stdout)

        objects = good_objects()
        del container(objects, "edge")["readinessProbe"]
        failed = self.run_rules(objects)
        self.assertEqual(failed.returncode, 1)
        self.assertIn("Deployment/edge container edge: no readinessProbe", failed.stdout)


if __name__ == "__main__":
    unittest.main()
