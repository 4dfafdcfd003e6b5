"""The project's own files: deploy/k8s/*.yaml and cloudbuild.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench.chapters.ch09_kubernetes.lab.manifests import K8S_VERSION, WORKLOAD_KINDS
from workbench.chapters.ch09_kubernetes.lab.validation import (
    ManifestReport,
    _containers,
    _fmt_labels,
    _get,
    _pod_labels,
    parse_manifests,
    schema_problems,
    semantic_problems,
)
from workbench.core.i18n import translate
from workbench.core.lessons import load_annotations
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# The project's own files: deploy/k8s/*.yaml and cloudbuild.yaml
# --------------------------------------------------------------------------------------------

SHIPPED_DIR = Path("deploy") / "k8s"
CLOUDBUILD = "cloudbuild.yaml"


def shipped_manifests(settings: Settings) -> dict[str, str]:
    """The project's Kubernetes manifests: file name → text."""
    folder = settings.repo_root / SHIPPED_DIR
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def validate_shipped(settings: Settings, version: str = K8S_VERSION) -> dict[str, ManifestReport]:
    """Each shipped file validated against the schemas, and all of them together for the cross-file checks.

    The combined report is under the key `*`.
    """
    reports, everything = {}, []
    for name, text in shipped_manifests(settings).items():
        documents, problems = parse_manifests(text)
        problems += [p for d in documents for p in schema_problems(d, version)]
        reports[name] = ManifestReport(tuple(documents), tuple(problems), version)
        everything += documents
    reports["*"] = ManifestReport(tuple(everything), tuple(semantic_problems(everything)), version)
    return reports


def resources_table(documents: tuple[dict, ...] | list[dict], lang: str) -> pd.DataFrame:
    """One row per resource: kind, name, and what matters about it (labels, selector, ports, image)."""
    tr = lambda key: translate(f"k8s.{key}", lang)  # noqa: E731
    rows = []
    for d in documents:
        kind = d.get("kind")
        detail = ""
        if kind in WORKLOAD_KINDS:
            images = ", ".join(str(c.get("image")) for c in _containers(d))
            ports = ", ".join(str(p.get("containerPort")) for c in _containers(d) for p in c.get("ports") or [])
            detail = f"labels: {_fmt_labels(_pod_labels(d))} · image: {images} · containerPort: {ports or '—'}"
        elif kind == "Service":
            ports = ", ".join(
                f"{p.get('port')}→{p.get('targetPort', p.get('port'))}" for p in _get(d, "spec", "ports") or []
            )
            detail = f"selector: {_fmt_labels(_get(d, 'spec', 'selector') or {})} · ports: {ports}"
        elif kind == "HorizontalPodAutoscaler":
            ref = _get(d, "spec", "scaleTargetRef") or {}
            detail = (
                f"{ref.get('kind')}/{ref.get('name')} · {_get(d, 'spec', 'minReplicas')}–"
                f"{_get(d, 'spec', 'maxReplicas')} replicas"
            )
        elif kind in ("ConfigMap", "Secret"):
            detail = ", ".join(sorted((_get(d, "data") or _get(d, "stringData") or {}).keys()))
        elif kind == "HTTPRoute":
            backends = [
                f"{b.get('name')}:{b.get('port')}"
                for rule in _get(d, "spec", "rules") or []
                for b in (rule.get("backendRefs") if isinstance(rule, dict) else None) or []
                if isinstance(b, dict)
            ]
            parents = [str(p.get("name")) for p in _get(d, "spec", "parentRefs") or [] if isinstance(p, dict)]
            detail = f"Gateway {', '.join(parents)} → Service {', '.join(backends)}"
        elif kind == "Gateway":
            listeners = [
                f"{li.get('protocol')}:{li.get('port')}"
                for li in _get(d, "spec", "listeners") or []
                if isinstance(li, dict)
            ]
            detail = f"class {_get(d, 'spec', 'gatewayClassName')} · {', '.join(listeners)}"
        elif kind == "PersistentVolumeClaim":
            detail = str(_get(d, "spec", "resources", "requests", "storage"))
        rows.append({tr("col_kind"): kind, tr("col_name"): _get(d, "metadata", "name"), tr("col_detail"): detail})
    return pd.DataFrame(rows)


def k8s_annotations(settings: Settings) -> dict:
    """The explanations of cloudbuild.yaml steps and of the GKE commands (lessons/annotations/k8s.yaml)."""
    return load_annotations("k8s", settings.lessons_dir)


def load_cloudbuild(settings: Settings) -> dict:
    """The parsed cloudbuild.yaml."""
    import yaml

    return yaml.safe_load((settings.repo_root / CLOUDBUILD).read_text(encoding="utf-8")) or {}


def cloudbuild_steps(settings: Settings) -> list[tuple[str, str, dict | None]]:
    """Each step of cloudbuild.yaml: (id, its source lines, its explanation or None)."""
    from workbench.chapters.ch08_cicd.delivery import source_block

    notes = k8s_annotations(settings).get("cloudbuild", {})
    lines = (settings.repo_root / CLOUDBUILD).read_text(encoding="utf-8").splitlines()
    out = []
    for step in load_cloudbuild(settings).get("steps") or []:
        step_id = str(step.get("id", ""))
        at = next((i for i, raw in enumerate(lines) if re.match(rf"^\s*- id: {re.escape(step_id)}\s*$", raw)), None)
        out.append((step_id, "" if at is None else source_block(lines, at), notes.get(step_id)))
    return out
