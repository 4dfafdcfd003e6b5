"""Chapter IX work-based check: settings in a ConfigMap, the project in its own namespace.

Reads the manifest the learner saved in the "Fix a manifest" tab: the API's settings must come from a
ConfigMap that the same manifest defines (`envFrom`, `configMapKeyRef` or a `configMap` volume), and every
object must live in one namespace other than `default`, so that several projects share a cluster without
stepping on each other's names, quotas and rights.
"""

from __future__ import annotations

from workbench.chapters.ch09_kubernetes.lab.validation import load_manifest, validate_text
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


def _pod_spec(document: dict) -> dict:
    spec = document.get("spec") or {}
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template") or {}
    return template.get("spec") or {}


def referenced_configmaps(document: dict) -> set[str]:
    """Names of the ConfigMaps a workload's pods read (environment or volumes)."""
    pod = _pod_spec(document)
    names: set[str] = set()
    for container in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
        for source in container.get("envFrom") or []:
            if name := (source.get("configMapRef") or {}).get("name"):
                names.add(str(name))
        for variable in container.get("env") or []:
            if name := ((variable.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name"):
                names.add(str(name))
    for volume in pod.get("volumes") or []:
        if name := (volume.get("configMap") or {}).get("name"):
            names.add(str(name))
    return names


def check_configmap_namespace(ctx: CheckContext) -> CheckResult:
    """Passed when the saved manifest validates, its Deployment reads a ConfigMap the manifest defines, and
    every namespaced object sits in one namespace other than `default`."""
    lang = ctx.lang
    text = load_manifest(ctx.settings, ctx.learner)
    if text is None:
        return failed(translate("k8s.check_no_manifest", lang))
    report = validate_text(text)
    documents = [d for d in report.documents if isinstance(d, dict)]
    missing = []
    if report.errors:
        missing.append(translate("k8s_sharing.errors", lang, n=len(report.errors)))
    configmaps = {str((d.get("metadata") or {}).get("name")) for d in documents if d.get("kind") == "ConfigMap"}
    deployments = [d for d in documents if d.get("kind") == "Deployment"]
    used = set().union(*(referenced_configmaps(d) for d in deployments)) if deployments else set()
    if not configmaps:
        missing.append(translate("k8s_sharing.no_configmap", lang))
    elif not used & configmaps:
        missing.append(translate("k8s_sharing.configmap_unused", lang, names=", ".join(sorted(configmaps))))
    namespaces = {
        str((d.get("metadata") or {}).get("namespace") or "default")
        for d in documents
        if d.get("kind") not in CLUSTER_SCOPED
    }
    if namespaces <= {"default"}:
        missing.append(translate("k8s_sharing.default_namespace", lang))
    elif len(namespaces) > 1:
        missing.append(translate("k8s_sharing.several_namespaces", lang, names=", ".join(sorted(namespaces))))
    evidence = {"configmaps": sorted(configmaps), "used": sorted(used), "namespaces": sorted(namespaces)}
    if missing:
        return failed(*missing, evidence=evidence)
    return passed(
        translate("k8s_sharing.ok", lang, configmap=", ".join(sorted(used & configmaps)), namespace=namespaces.pop()),
        evidence=evidence,
    )
