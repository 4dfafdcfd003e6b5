"""Chapter IX work-based check: a ConfigMap the Deployment reads, one namespace for the project."""

from __future__ import annotations

import re

import yaml
from workbench.chapters.ch09_kubernetes import lab as k8s
from workbench.chapters.ch09_kubernetes.lab.sharing import check_configmap_namespace, referenced_configmaps
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

from tests.unit.ch09_kubernetes.test_lab import _fixed_manifest

CONFIGMAP = """---
apiVersion: v1
kind: ConfigMap
metadata:
  name: loan-api-config
  namespace: loan-project
data:
  WORKBENCH_API_ALIAS: production
"""


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


def _in_namespace(text: str, namespace: str = "loan-project") -> str:
    return re.sub(r"(?m)^metadata:\n", f"metadata:\n  namespace: {namespace}\n", text)


def _reads_configmap(text: str) -> str:
    return text.replace(
        "            - containerPort: 8000\n",
        "            - containerPort: 8000\n          envFrom:\n            - configMapRef:\n                name: loan-api-config\n",
        1,
    )


def test_referenced_configmaps_from_env_envfrom_and_volumes() -> None:
    deployment = yaml.safe_load(
        """
kind: Deployment
spec:
  template:
    spec:
      containers:
        - envFrom: [{configMapRef: {name: a}}]
          env: [{name: X, valueFrom: {configMapKeyRef: {name: b, key: x}}}]
      volumes: [{name: v, configMap: {name: c}}]
"""
    )
    assert referenced_configmaps(deployment) == {"a", "b", "c"}


def test_fails_before_the_work_and_passes_after() -> None:
    settings = get_settings()
    assert not check_configmap_namespace(_ctx()).passed  # nothing saved
    k8s.save_manifest(settings, "ana", _fixed_manifest())  # the fixed manifest alone: chapter's first exercise
    first = check_configmap_namespace(_ctx())
    assert not first.passed and any("No ConfigMap" in m for m in first.missing)
    assert any("`default` namespace" in m for m in first.missing)
    k8s.save_manifest(settings, "ana", _fixed_manifest() + CONFIGMAP)
    unused = check_configmap_namespace(_ctx())
    assert any("read by no container" in m for m in unused.missing)
    split = _reads_configmap(_fixed_manifest()) + CONFIGMAP  # the ConfigMap in a namespace, the rest in default
    k8s.save_manifest(settings, "ana", split)
    assert any("several namespaces" in m for m in check_configmap_namespace(_ctx()).missing)
    k8s.save_manifest(settings, "ana", _in_namespace(_reads_configmap(_fixed_manifest())) + CONFIGMAP)
    result = check_configmap_namespace(_ctx("fr"))
    assert result.passed, result.missing
    assert "« loan-api-config »" in result.detail and "« loan-project »" in result.detail
