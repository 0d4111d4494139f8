"""Tests of .ci/istio_check.py: the shipped deploy/ passes, and each
deliberately broken copy of its Istio snippets is caught.

Run by `just envoy-check` (python3 -m unittest discover -s .ci -p 'test_istio_*.py').
"""

import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import istio_check  # noqa: E402

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


class IstioCheck(unittest.TestCase):
    def broken(self, file: str, old: str, new: str) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "deploy"
            shutil.copytree(DEPLOY, copy)
            path = copy / "istio" / file
            text = path.read_text()
            self.assertIn(old, text)
            path.write_text(text.replace(old, new, 1))
            return istio_check.check(copy)

    def assert_caught(self, problems: list[str], fragment: str) -> None:
        self.assertTrue(any(fragment in p for p in problems), problems)

    def test_the_shipped_snippets_pass(self):
        self.assertEqual(istio_check.check(DEPLOY), [])

    def test_a_misspelt_field_is_caught(self):
        problems = self.broken("mesh-config.yaml", "failOpen:", "failopen:")
        self.assert_caught(problems, "failopen: not a field Istio knows")
        problems = self.broken("authorization-policy.yaml", "notPaths:", "notPath:")
        self.assert_caught(problems, "notPath: not a field Istio knows")

    def test_a_bad_enum_is_caught(self):
        problems = self.broken("authorization-policy.yaml", "action: CUSTOM", "action: CUSTOMISED")
        self.assert_caught(problems, "'CUSTOMISED' is not one of")

    def test_the_provider_must_exist_and_fail_closed(self):
        problems = self.broken("authorization-policy.yaml", "name: todo-auth-verify", "name: other")
        self.assert_caught(problems, "is not an envoyExtAuthzGrpc provider")
        problems = self.broken("mesh-config.yaml", "failOpen: false", "failOpen: true")
        self.assert_caught(problems, "fail closed")

    def test_the_service_must_be_auth_verify_in_the_policy_namespace(self):
        problems = self.broken("mesh-config.yaml", "auth-verify-headless.todo", "auth-verify.todo")
        self.assert_caught(problems, "is not one of auth-verify's Services")
        problems = self.broken("mesh-config.yaml", "port: 50051", "port: 50052")
        self.assert_caught(problems, "is not a port of auth-verify-headless")
        problems = self.broken("authorization-policy.yaml", "namespace: todo", "namespace: apps")
        self.assert_caught(problems, "is not the prod overlay's")


if __name__ == "__main__":
    unittest.main()
