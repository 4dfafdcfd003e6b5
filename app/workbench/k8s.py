"""Chapter IX: Kubernetes manifests for the prediction API, their validation, and an autoscaling simulator.

- `generate_manifests` writes a Deployment, a Service, a HorizontalPodAutoscaler (autoscaling/v2) and a
  ConfigMap from a few inputs;
- `validate_text` checks manifests against the official Kubernetes JSON schemas (`kubernetes-validate`,
  strict mode: unknown fields are errors), then does what the schemas cannot: the Service's selector
  against the pods' labels (naming the exact label that does not match), `targetPort` against
  `containerPort`, the HPA's `scaleTargetRef`, the CPU requests an HPA needs, references to ConfigMaps,
  Secrets and PersistentVolumeClaims;
- `simulate_autoscaling` runs the HPA's rule minute by minute on a daily traffic curve and derives the
  latency (an M/M/c queue: each ready pod serves one request at a time) and the cost (pod-hours);
- the project's own manifests (`deploy/k8s/`) and `cloudbuild.yaml` are read and checked here too.

Nothing here talks to a cluster or to Google Cloud: validation is offline, against the schemas shipped in
the `kubernetes-validate` package.
"""

from __future__ import annotations

import difflib
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.exercises import CheckContext, CheckResult
from workbench.formatting import localize_figure
from workbench.i18n import LocalizedError, translate
from workbench.learner_files import read_json, write_json, write_text
from workbench.lessons import load_annotations
from workbench.settings import Settings

#: The Kubernetes version whose schemas validate the manifests: the newest `kubernetes-validate` ships.
K8S_VERSION = "1.37"
SERVICE_TYPES: tuple[str, ...] = ("ClusterIP", "NodePort", "LoadBalancer")
WORKLOAD_KINDS: tuple[str, ...] = ("Deployment", "StatefulSet")
MAX_MANIFEST_BYTES = 50_000
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class K8sError(LocalizedError, ValueError):
    """An input the lab refuses; `message(lang)` explains why in the learner's language."""

    namespace = "k8s"


# --------------------------------------------------------------------------------------------
# Manifest generator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSpec:
    """What the learner chooses for the prediction API on Kubernetes."""

    name: str = "loan-api"
    image: str = "europe-west1-docker.pkg.dev/my-project/mlops/loan-api:1.0.0"
    replicas: int = 2
    container_port: int = 8000
    service_port: int = 80
    service_type: str = "LoadBalancer"
    cpu_request: str = "250m"
    cpu_limit: str = "500m"
    memory_request: str = "256Mi"
    memory_limit: str = "512Mi"
    labels: dict[str, str] = field(default_factory=lambda: {"app": "loan-api", "tier": "api"})
    selector: dict[str, str] | None = None  # the Service's selector; None: the same as the pod labels
    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu: int = 70
    config: dict[str, str] = field(default_factory=lambda: {
        "MLFLOW_TRACKING_URI": "http://mlflow:5000", "WORKBENCH_API_ALIAS": "production", "LOG_LEVEL": "info",
    })  # fmt: skip


def parse_labels(text: str) -> dict[str, str]:
    """`app=loan-api, tier=api` (or one per line, or `app: loan-api`) → {"app": "loan-api", "tier": "api"}.

    Raises:
        K8sError: an entry without `=`, or a key or value Kubernetes would refuse.
    """
    labels: dict[str, str] = {}
    for part in re.split(r"[,\n]", text):
        part = part.strip()
        if not part:
            continue
        sep = "=" if "=" in part else ":" if ":" in part else None
        if sep is None:
            raise K8sError("error_label_format", entry=part)
        key, value = (s.strip() for s in part.split(sep, 1))
        if not LABEL_KEY.match(key) or len(key.split("/")[-1]) > 63:
            raise K8sError("error_label_key", label=key)
        if not LABEL_VALUE.match(value) or len(value) > 63:
            raise K8sError("error_label_value", label=key, value=value)
        labels[key] = value
    return labels


def check_spec(spec: ApiSpec) -> None:
    """Refuse inputs that would not make sense before generating anything.

    Raises:
        K8sError: with the first problem found.
    """
    if not NAME.match(spec.name) or len(spec.name) > 63:
        raise K8sError("error_name", name=spec.name)
    if not spec.image.strip() or any(c.isspace() for c in spec.image):
        raise K8sError("error_image")
    for port in (spec.container_port, spec.service_port):
        if not 1 <= port <= 65535:
            raise K8sError("error_port", port=port)
    if spec.service_type not in SERVICE_TYPES:
        raise K8sError("error_service_type", type=spec.service_type)
    for quantity in (spec.cpu_request, spec.cpu_limit, spec.memory_request, spec.memory_limit):
        if not QUANTITY.match(quantity):
            raise K8sError("error_quantity", value=quantity)
    if not spec.labels:
        raise K8sError("error_no_labels")
    if not 1 <= spec.min_replicas <= spec.max_replicas:
        raise K8sError("error_replicas", min=spec.min_replicas, max=spec.max_replicas)
    if not 1 <= spec.target_cpu <= 100:
        raise K8sError("error_target", target=spec.target_cpu)


def generate_manifests(spec: ApiSpec) -> list[dict]:
    """ConfigMap, Deployment, Service and HorizontalPodAutoscaler (autoscaling/v2) for the prediction API.

    Raises:
        K8sError: an input Kubernetes would refuse (see `check_spec`).
    """
    check_spec(spec)
    labels = dict(spec.labels)
    selector = dict(labels if spec.selector is None else spec.selector)
    config_name = f"{spec.name}-config"
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": config_name, "labels": labels},
        "data": {str(k): str(v) for k, v in spec.config.items()},
    }
    container = {
        "name": spec.name,
        "image": spec.image,
        "ports": [{"name": "http", "containerPort": spec.container_port}],
        "envFrom": [{"configMapRef": {"name": config_name}}],
        "resources": {
            "requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
            "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit},
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": spec.container_port}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/health", "port": spec.container_port}, "periodSeconds": 15,
                          "initialDelaySeconds": 20},
    }  # fmt: skip
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "type": spec.service_type,
            "selector": selector,
            "ports": [{"name": "http", "port": spec.service_port, "targetPort": spec.container_port}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name},
            "minReplicas": spec.min_replicas,
            "maxReplicas": spec.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": spec.target_cpu}}}],
        },
    }  # fmt: skip
    return [configmap, deployment, service, hpa]


def to_yaml(documents: list[dict]) -> str:
    """Documents as one multi-document YAML file (`---` between them), keys in a readable order."""
    import yaml

    class PlainDumper(yaml.SafeDumper):
        """Writes a dict shared by several places in full each time (no `&id001` / `*id001`)."""

        def ignore_aliases(self, data: object) -> bool:
            return True

    return yaml.dump_all(
        documents, Dumper=PlainDumper, sort_keys=False, explicit_start=True, default_flow_style=False
    )


def apply_code(filename: str = "loan-api.yaml") -> str:
    """The commands that validate and apply a manifest file, and look at what it created."""
    return (
        f"pip install kubernetes-validate\nkubernetes-validate --strict --kubernetes-version {K8S_VERSION} {filename}\n"
        f"kubectl apply --dry-run=server -f {filename}    # the API server checks it too (needs a cluster)\n"
        f"kubectl apply -f {filename}\nkubectl get pods --show-labels\nkubectl describe service loan-api   # Endpoints: empty when the selector matches no ready pod\n"
        "kubectl get endpointslices -l kubernetes.io/service-name=loan-api\n"
        "kubectl get hpa loan-api --watch"
    )


def validation_code(filename: str = "loan-api.yaml") -> str:
    """Python doing the schema validation this page does."""
    return f'''import kubernetes_validate
import yaml

with open("{filename}") as handle:
    for document in yaml.safe_load_all(handle):
        if not document:
            continue
        try:
            kubernetes_validate.validate(document, "{K8S_VERSION}", strict=True)
            print("valid:", document["kind"], document["metadata"]["name"])
        except kubernetes_validate.ValidationError as error:
            print("invalid:", document["kind"], ".".join(map(str, error.path)), error.message)
'''


# --------------------------------------------------------------------------------------------
# Validation: schemas, then labels, ports, HPA target, references
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One finding about a set of manifests, explained through a translation key."""

    severity: str  # error | warning
    resource: str  # e.g. "Service/loan-api", or "document 2"
    key: str  # translation key under `k8s.problem_`
    params: dict = field(default_factory=dict)

    def message(self, lang: str) -> str:
        """The finding explained in `lang`."""
        params = dict(self.params)
        if self.key == "type":  # JSON-schema type names, in the learner's language
            params["expected"] = " / ".join(
                translate(f"k8s.json_{t}", lang) for t in str(params["expected"]).split(" / ")
            )
        return translate(f"k8s.problem_{self.key}", lang, **params)


@dataclass(frozen=True)
class ManifestReport:
    """The parsed documents and every problem found in them."""

    documents: tuple[dict, ...]
    problems: tuple[Problem, ...]
    version: str = K8S_VERSION

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that stop the manifests from working."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        """True when there is at least one document and no error."""
        return bool(self.documents) and not self.errors

    def kinds(self) -> list[str]:
        """`Kind/name` of each document."""
        return [resource_id(d) for d in self.documents]


def resource_id(document: dict) -> str:
    """`Kind/name` of a manifest (`?` for what is missing)."""
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return f"{document.get('kind', '?')}/{metadata.get('name', '?')}"


def parse_manifests(text: str) -> tuple[list[dict], list[Problem]]:
    """The YAML documents of a manifest file (empty ones dropped), or the YAML error with its line."""
    import yaml

    if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        return [], [Problem("error", "yaml", "too_big", {"max": MAX_MANIFEST_BYTES})]
    try:
        raw = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], [Problem("error", "yaml", "yaml", {"line": line, "error": problem})]
    documents, problems = [], []
    for number, document in enumerate(raw, start=1):
        if not isinstance(document, dict):
            problems.append(Problem("error", f"#{number}", "not_mapping", {"n": number}))
        elif not document.get("apiVersion") or not document.get("kind"):
            problems.append(Problem("error", f"#{number}", "no_kind", {"n": number}))
        else:
            documents.append(document)
    if not raw:
        problems.append(Problem("error", "yaml", "empty", {}))
    return documents, problems


@lru_cache(maxsize=64)
def _validator(kind: str, api_version: str, version: str):
    """A JSON-schema validator for one kind, built from the schemas `kubernetes-validate` ships (strict)."""
    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    full = [v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(version)][-1]
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = f"kubernetes-json-schema/v{full}-local-strict"
    schema = utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", version)
    definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _schema_problem(resource: str, error: Any) -> Problem:
    path = ".".join(str(p) for p in error.path) or "(root)"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list((error.schema.get("properties") or {}).keys())
        unknown = [k for k in error.instance if k not in known]
        name = unknown[0] if unknown else "?"
        close = difflib.get_close_matches(name, known, n=1)
        where = f"{path}.{name}" if path != "(root)" else name
        if close:
            return Problem("error", resource, "unknown_field_hint", {"path": where, "field": name, "hint": close[0]})
        return Problem("error", resource, "unknown_field", {"path": where, "field": name})
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [r for r in error.validator_value if r not in error.instance]
        return Problem("error", resource, "required", {"path": path, "field": missing[0] if missing else "?"})
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else " / ".join(
            v for v in error.validator_value if v != "null")  # fmt: skip
        return Problem("error", resource, "type", {"path": path, "expected": expected, "value": repr(error.instance)})
    return Problem("error", resource, "schema", {"path": path, "error": error.message})


def schema_problems(document: dict, version: str = K8S_VERSION) -> list[Problem]:
    """Every schema error of one document (strict: unknown fields too), or a note that its kind is unknown.

    Uses the schemas and loaders of `kubernetes-validate` with one validator per kind kept in memory:
    `kubernetes_validate.validate` re-reads the definitions file (megabytes of JSON) on every call and
    stops at the first error, while a learner wants to see all of them at once.
    """
    from kubernetes_validate import utils

    resource = resource_id(document)
    try:
        validator = _validator(str(document["kind"]), str(document["apiVersion"]), version)
    except (FileNotFoundError, utils.VersionNotSupportedError, utils.InvalidSchemaError):
        return [Problem("error", resource, "unknown_kind", {"kind": document.get("kind"),
                        "api": document.get("apiVersion"), "version": version})]  # fmt: skip
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    return [_schema_problem(resource, e) for e in errors]


def _get(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _pod_labels(workload: dict) -> dict:
    labels = _get(workload, "spec", "template", "metadata", "labels")
    return labels if isinstance(labels, dict) else {}


def _containers(workload: dict) -> list[dict]:
    containers = _get(workload, "spec", "template", "spec", "containers")
    return [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []


def _fmt_labels(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items()) or "—"


def label_mismatches(selector: dict, labels: dict) -> list[tuple[str, str, str | None]]:
    """The selector's entries the labels do not satisfy: (key, wanted value, actual value or None if missing)."""
    out = []
    for key, wanted in selector.items():
        actual = labels.get(key)
        if actual is None:
            out.append((str(key), str(wanted), None))
        elif str(actual) != str(wanted):
            out.append((str(key), str(wanted), str(actual)))
    return out


def _selector_problems(resource: str, owner: str, selector: dict, labels: dict, kind: str) -> list[Problem]:
    problems = []
    for key, wanted, actual in label_mismatches(selector, labels):
        params = {"resource": resource, "owner": owner, "key": key, "wanted": wanted, "actual": actual,
                  "labels": _fmt_labels(labels)}  # fmt: skip
        problems.append(Problem("error", resource, f"{kind}_label_missing" if actual is None else f"{kind}_label_differs",
                                params))  # fmt: skip
    return problems


def semantic_problems(documents: list[dict]) -> list[Problem]:
    """What the schemas cannot see: selectors vs labels, ports, HPA targets and requests, references."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for document in documents:
        ident = (str(document.get("kind")), str(_get(document, "metadata", "namespace") or ""),
                 str(_get(document, "metadata", "name")))  # fmt: skip
        if not _get(document, "metadata", "name"):
            problems.append(Problem("error", resource_id(document), "no_name", {}))
        elif ident in seen:
            problems.append(Problem("error", resource_id(document), "duplicate", {"resource": resource_id(document)}))
        seen.add(ident)
    workloads = [d for d in documents if d.get("kind") in WORKLOAD_KINDS]
    names = {kind: {str(_get(d, "metadata", "name")) for d in documents if d.get("kind") == kind}
             for kind in ("ConfigMap", "Secret", "PersistentVolumeClaim", *WORKLOAD_KINDS)}  # fmt: skip

    for workload in workloads:
        resource = resource_id(workload)
        match = _get(workload, "spec", "selector", "matchLabels")
        if isinstance(match, dict):
            problems += _selector_problems(resource, resource, match, _pod_labels(workload), "workload")
        problems += _reference_problems(workload, names)

    for service in (d for d in documents if d.get("kind") == "Service"):
        problems += _service_problems(service, workloads)

    for hpa in (d for d in documents if d.get("kind") == "HorizontalPodAutoscaler"):
        problems += _hpa_problems(hpa, workloads)
    return problems


def _reference_problems(workload: dict, names: dict[str, set[str]]) -> list[Problem]:
    resource = resource_id(workload)
    refs: list[tuple[str, str]] = []
    for container in _containers(workload):
        for source in container.get("envFrom") or []:
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if isinstance(source, dict) and _get(source, key, "name"):
                    refs.append((kind, str(source[key]["name"])))
        for env in container.get("env") or []:
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if isinstance(env, dict) and _get(env, "valueFrom", key, "name"):
                    refs.append((kind, str(env["valueFrom"][key]["name"])))
    for volume in _get(workload, "spec", "template", "spec", "volumes") or []:
        if isinstance(volume, dict):
            if _get(volume, "persistentVolumeClaim", "claimName"):
                refs.append(("PersistentVolumeClaim", str(volume["persistentVolumeClaim"]["claimName"])))
            if _get(volume, "configMap", "name"):
                refs.append(("ConfigMap", str(volume["configMap"]["name"])))
            if _get(volume, "secret", "secretName"):
                refs.append(("Secret", str(volume["secret"]["secretName"])))
    return [Problem("warning", resource, "missing_reference", {"resource": resource, "kind": kind, "name": name})
            for kind, name in dict.fromkeys(refs) if name not in names.get(kind, set())]  # fmt: skip


def _service_problems(service: dict, workloads: list[dict]) -> list[Problem]:
    resource = resource_id(service)
    selector = _get(service, "spec", "selector")
    if not isinstance(selector, dict) or not selector:
        return [Problem("warning", resource, "service_no_selector", {"resource": resource})]
    if not workloads:
        return [Problem("warning", resource, "service_no_workload", {"resource": resource})]
    selected = [w for w in workloads if not label_mismatches(selector, _pod_labels(w))]
    problems: list[Problem] = []
    if not selected:
        name = _get(service, "metadata", "name")
        best = min(workloads, key=lambda w: (len(label_mismatches(selector, _pod_labels(w))),
                                             _get(w, "metadata", "name") != name))  # fmt: skip
        problems += _selector_problems(resource, resource_id(best), selector, _pod_labels(best), "service")
        targets = [best]
    else:
        targets = selected
    for port in _get(service, "spec", "ports") or []:
        if not isinstance(port, dict):
            continue
        target = port.get("targetPort", port.get("port"))
        for workload in targets:
            declared = [p for c in _containers(workload) for p in (c.get("ports") or []) if isinstance(p, dict)]
            numbers = sorted({p.get("containerPort") for p in declared if isinstance(p.get("containerPort"), int)})
            named = {p.get("name") for p in declared if p.get("name")}
            ok = target in named if isinstance(target, str) else target in numbers
            if not ok and declared:
                problems.append(Problem("error", resource, "port_mismatch", {
                    "resource": resource, "port": port.get("port"), "target": target, "owner": resource_id(workload),
                    "ports": ", ".join(map(str, numbers)) or "—"}))  # fmt: skip
    return problems


def _hpa_problems(hpa: dict, workloads: list[dict]) -> list[Problem]:
    resource = resource_id(hpa)
    problems: list[Problem] = []
    ref = _get(hpa, "spec", "scaleTargetRef") or {}
    kind, name = ref.get("kind"), ref.get("name")
    target = next((w for w in workloads if w.get("kind") == kind and _get(w, "metadata", "name") == name), None)
    if target is None:
        available = ", ".join(resource_id(w) for w in workloads) or "—"
        problems.append(Problem("error", resource, "hpa_target_missing",
                                {"resource": resource, "kind": kind, "name": name, "available": available}))  # fmt: skip
    low, high = _get(hpa, "spec", "minReplicas"), _get(hpa, "spec", "maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(Problem("error", resource, "hpa_min_max", {"min": low, "max": high}))
    uses_cpu = any(_get(m, "resource", "name") == "cpu" and _get(m, "resource", "target", "type") == "Utilization"
                   for m in (_get(hpa, "spec", "metrics") or []) if isinstance(m, dict))  # fmt: skip
    if target is not None and uses_cpu:
        missing = [str(c.get("name")) for c in _containers(target) if not _get(c, "resources", "requests", "cpu")]
        if missing:
            problems.append(Problem("error", resource, "hpa_no_cpu_request",
                                    {"resource": resource, "owner": resource_id(target), "containers": ", ".join(missing)}))  # fmt: skip
    return problems


def validate_documents(documents: list[dict], version: str = K8S_VERSION) -> list[Problem]:
    """Schema problems of each document, then the cross-document checks."""
    problems = [p for d in documents for p in schema_problems(d, version)]
    return problems + semantic_problems(documents)


def validate_text(text: str, version: str = K8S_VERSION) -> ManifestReport:
    """Parse and check a manifest file (see the module docstring)."""
    documents, problems = parse_manifests(text)
    if documents and not any(p.key == "yaml" for p in problems):
        problems += validate_documents(documents, version)
    return ManifestReport(tuple(documents), tuple(problems), version)


def problems_table(report: ManifestReport, lang: str) -> pd.DataFrame:
    """The problems as a table: severity, resource, explanation."""
    tr = lambda key: translate(f"k8s.{key}", lang)  # noqa: E731
    return pd.DataFrame(
        {
            tr("col_severity"): [tr(f"severity_{p.severity}") for p in report.problems],
            tr("col_resource"): [p.resource for p in report.problems],
            tr("col_problem"): [p.message(lang) for p in report.problems],
        }
    )


# --------------------------------------------------------------------------------------------
# The "broken manifest" exercise
# --------------------------------------------------------------------------------------------

BROKEN_MANIFEST = """# L'API de prêt, telle qu'un collègue l'a laissée : corrigez-la jusqu'à ce que l'atelier ne trouve plus d'erreur.
# The loan API, as a colleague left it: fix it until the workbench finds no error.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: loan-api
spec:
  replicas: "2"
  selector:
    matchLabels:
      app: loan-api
  template:
    metadata:
      labels:
        app: loan-api
        tier: api
    spec:
      containers:
        - name: loan-api
          image: europe-west1-docker.pkg.dev/my-project/mlops/loan-api:1.0.0
          ports:
            - contianerPort: 8000
---
apiVersion: v1
kind: Service
metadata:
  name: loan-api
spec:
  type: LoadBalancer
  selector:
    app: loan-model
    tier: api
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: loan-api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: loan-api-deployment
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"""
REQUIRED_KINDS: tuple[str, ...] = ("Deployment", "Service", "HorizontalPodAutoscaler")


def learner_k8s_dir(settings: Settings, learner: str) -> Path:
    """The learner's chapter IX folder (not created here)."""
    return settings.learner_dir(learner) / "k8s"


def manifest_path(settings: Settings, learner: str) -> Path:
    """Where the learner's edited manifest is saved."""
    return learner_k8s_dir(settings, learner) / "manifest.yaml"


def save_manifest(settings: Settings, learner: str, text: str) -> ManifestReport:
    """Save the learner's manifest and return its validation report.

    Raises:
        K8sError: the text is larger than MAX_MANIFEST_BYTES.
    """
    if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        raise K8sError("error_too_big", max=MAX_MANIFEST_BYTES)
    write_text(manifest_path(settings, learner), text)
    return validate_text(text)


def load_manifest(settings: Settings, learner: str) -> str | None:
    """The learner's saved manifest (None when there is none)."""
    try:
        return manifest_path(settings, learner).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def check_fixed_manifest(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's saved manifest validates, keeps its Deployment, Service and HPA, and matches."""
    text = load_manifest(ctx.settings, ctx.learner)
    if text is None:
        return CheckResult(False, (translate("k8s.check_no_manifest", ctx.lang),))
    report = validate_text(text)
    kinds = {d.get("kind") for d in report.documents}
    missing = [k for k in REQUIRED_KINDS if k not in kinds]
    evidence = {"resources": report.kinds(), "errors": len(report.errors)}
    if missing:
        return CheckResult(False, (translate("k8s.check_missing_kinds", ctx.lang, kinds=", ".join(missing)),),
                           evidence=evidence)  # fmt: skip
    if report.errors:
        lines = tuple(p.message(ctx.lang) for p in report.errors[:5])
        head = translate("k8s.check_still_errors", ctx.lang, n=len(report.errors))
        return CheckResult(False, (head, *lines), evidence=evidence)
    return CheckResult(True, detail=translate("k8s.check_manifest_ok", ctx.lang, resources=", ".join(report.kinds())),
                       evidence=evidence)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Autoscaling simulator
# --------------------------------------------------------------------------------------------

MINUTES = 24 * 60
SATURATED_MS = 10_000.0  # what the latency chart shows when the pods cannot keep up (requests time out)


def daily_traffic(
    peak_rps: float, base_share: float = 0.12, peak_hour: float = 18.0, spike: bool = False
) -> np.ndarray:
    """Requests per second, minute by minute over a day: quiet night, a lunch bump, the evening peak.

    Args:
        peak_rps: the busiest minute's traffic.
        base_share: night traffic as a share of the peak.
        peak_hour: when the evening peak is highest.
        spike: add a sudden burst to the peak at 10:00 for 15 minutes (a marketing e-mail).
    """
    hours = np.arange(MINUTES) / 60

    def bump(center: float, width: float) -> np.ndarray:
        distance = np.minimum(np.abs(hours - center), 24 - np.abs(hours - center))
        return np.exp(-0.5 * (distance / width) ** 2)

    shape = np.maximum(0.6 * bump(12.5, 1.6), bump(peak_hour, 2.2))
    shape = (shape - shape.min()) / (shape.max() - shape.min())
    traffic = peak_rps * (base_share + (1 - base_share) * shape)
    if spike:
        traffic[10 * 60 : 10 * 60 + 15] = peak_rps
    return traffic


@dataclass(frozen=True)
class HpaConfig:
    """The HPA and the pods it scales, with the price of a pod."""

    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu: int = 70  # % of the CPU request
    pod_capacity_rps: float = 40.0  # requests/s one pod serves at 100 % of its CPU request
    startup_minutes: int = 2  # a new pod pulls the image and loads the model before it is ready
    scale_down_window_minutes: int = 5  # Kubernetes' default stabilization window for scaling down
    tolerance: float = 0.1  # Kubernetes' default: no change while |ratio - 1| <= 10 %
    cpu_request: float = 0.5  # vCPU (requests = limits: Guaranteed pods, as GKE Autopilot bills them)
    memory_gib: float = 0.5
    vcpu_hour_price: float = 0.0445  # illustrative list prices (USD); check the current GKE pricing page
    gib_hour_price: float = 0.0049

    @property
    def pod_hour_price(self) -> float:
        """What one pod costs per hour."""
        return self.cpu_request * self.vcpu_hour_price + self.memory_gib * self.gib_hour_price


def hpa_desired_replicas(
    current: int, metric: float, target: float, low: int, high: int, tolerance: float = 0.1
) -> int:
    """The HPA's rule: ceil(current × metric / target), unchanged within the tolerance, clamped to [low, high]."""
    if current <= 0 or target <= 0:
        return max(low, min(high, current))
    ratio = metric / target
    desired = current if abs(ratio - 1) <= tolerance else math.ceil(current * ratio - 1e-9)
    return max(low, min(high, desired))


def erlang_c(servers: np.ndarray, offered: np.ndarray) -> np.ndarray:
    """Probability that a request waits in an M/M/c queue (c = servers, offered load a = λ/μ < c)."""
    servers = np.asarray(servers, dtype=int)
    offered = np.asarray(offered, dtype=float)
    blocking = np.ones_like(offered)
    for k in range(1, int(servers.max(initial=1)) + 1):  # Erlang B, one server at a time
        step = offered * blocking / (k + offered * blocking)
        blocking = np.where(k <= servers, step, blocking)
    rho = offered / np.maximum(servers, 1)
    return blocking / (1 - rho * (1 - blocking))


def p95_latency_ms(rps: np.ndarray, ready: np.ndarray, capacity: float) -> np.ndarray:
    """95th percentile of the response time (queueing + service) of an M/M/c queue, in milliseconds.

    Saturated minutes (traffic ≥ ready × capacity) get SATURATED_MS.
    """
    rps, ready = np.asarray(rps, dtype=float), np.asarray(ready, dtype=int)
    mu = capacity
    stable = (ready > 0) & (rps < ready * mu)
    out = np.full(rps.shape, SATURATED_MS)
    if not stable.any():
        return out
    lam, c = rps[stable], ready[stable]
    wait = erlang_c(c, lam / mu)
    theta = c * mu - lam

    def tail(t: np.ndarray) -> np.ndarray:  # P(response time > t)
        same = np.isclose(theta, mu)
        mixed = np.where(same, (1 + mu * t) * np.exp(-mu * t),
                         (theta * np.exp(-mu * t) - mu * np.exp(-theta * t)) / np.where(same, 1, theta - mu))  # fmt: skip
        return (1 - wait) * np.exp(-mu * t) + wait * mixed

    low, high = np.zeros_like(lam), np.full(lam.shape, 1.0)
    while (tail(high) > 0.05).any():
        high = np.where(tail(high) > 0.05, high * 2, high)
    for _ in range(60):
        middle = (low + high) / 2
        above = tail(middle) > 0.05
        low, high = np.where(above, middle, low), np.where(above, high, middle)
    out[stable] = np.minimum(high * 1000, SATURATED_MS)
    return out


@dataclass(frozen=True)
class AutoscaleResult:
    """Minute by minute: traffic, replicas, utilization, p95 latency; and the day's totals."""

    frame: pd.DataFrame
    config: HpaConfig
    slo_ms: float

    @property
    def peak_p95_ms(self) -> float:
        """The worst minute's p95 latency."""
        return float(self.frame["p95_ms"].max())

    @property
    def minutes_over_slo(self) -> int:
        """Minutes whose p95 latency is above the objective."""
        return int((self.frame["p95_ms"] > self.slo_ms).sum())

    @property
    def pod_hours(self) -> float:
        """Pods × hours paid (starting pods count: they are billed)."""
        return float(self.frame["replicas"].sum() / 60)

    @property
    def cost(self) -> float:
        """The day's cost of the pods."""
        return self.pod_hours * self.config.pod_hour_price

    @property
    def max_replicas_used(self) -> int:
        """The most pods running at once."""
        return int(self.frame["replicas"].max())

    @property
    def dropped_share(self) -> float:
        """Share of the day's requests the pods could not serve."""
        return float(self.frame["dropped_rps"].sum() / max(self.frame["rps"].sum(), 1e-9))


def simulate_autoscaling(traffic: np.ndarray, config: HpaConfig, slo_ms: float = 200.0) -> AutoscaleResult:
    """Run the HPA once a minute over the traffic and derive replicas, latency and cost.

    Each minute the HPA reads the average CPU utilization of the ready pods (traffic / (ready × capacity),
    at most 100 %: requests = limits), applies `hpa_desired_replicas`, scales up at once and scales down
    to the highest recommendation of the stabilization window. New pods become ready `startup_minutes`
    later. The day starts with the replicas the first minute's traffic needs.

    Raises:
        K8sError: inconsistent settings.
    """
    if not 1 <= config.min_replicas <= config.max_replicas or not 1 <= config.target_cpu <= 100:
        raise K8sError("error_replicas", min=config.min_replicas, max=config.max_replicas)
    if config.pod_capacity_rps <= 0 or config.startup_minutes < 0 or config.scale_down_window_minutes < 0:
        raise K8sError("error_sim_settings")
    traffic = np.asarray(traffic, dtype=float)
    mu, target = config.pod_capacity_rps, config.target_cpu
    first = math.ceil(traffic[0] / (mu * target / 100)) if len(traffic) else config.min_replicas
    spec = max(config.min_replicas, min(config.max_replicas, first))
    ready_at = [0] * spec  # minute each running pod becomes (or became) ready
    recommendations: deque[tuple[int, int]] = deque()
    rows = np.zeros((len(traffic), 5))
    for minute, rps in enumerate(traffic):
        ready = sum(1 for t in ready_at if t <= minute)
        utilization = 100.0 * min(rps / (max(ready, 1) * mu), 1.0)
        recommendation = hpa_desired_replicas(ready, utilization, target, config.min_replicas, config.max_replicas,
                                              config.tolerance)  # fmt: skip
        recommendation = max(recommendation, spec) if ready < spec and recommendation < spec else recommendation
        recommendations.append((minute, recommendation))
        while recommendations and recommendations[0][0] <= minute - config.scale_down_window_minutes:
            recommendations.popleft()
        if recommendation > spec:
            ready_at += [minute + config.startup_minutes] * (recommendation - spec)
            spec = recommendation
        else:
            down_to = max(r for _, r in recommendations)
            if down_to < spec:
                ready_at = sorted(ready_at)[:down_to]  # the youngest pods (not ready yet, if any) go first
                spec = down_to
        ready = sum(1 for t in ready_at if t <= minute)  # after a scale-down, fewer pods serve this minute
        rows[minute] = (rps, spec, ready, utilization, recommendation)
    frame = pd.DataFrame(rows, columns=["rps", "replicas", "ready", "utilization", "desired"])
    frame.insert(0, "minute", np.arange(len(traffic)))
    frame.insert(1, "hour", frame["minute"] / 60)
    for column in ("replicas", "ready", "desired"):
        frame[column] = frame[column].astype(int)
    frame["p95_ms"] = p95_latency_ms(frame["rps"].to_numpy(), frame["ready"].to_numpy(), mu)
    frame["dropped_rps"] = np.maximum(frame["rps"] - frame["ready"] * mu, 0)
    return AutoscaleResult(frame, config, slo_ms)


def autoscaling_figure(result: AutoscaleResult, lang: str):
    """Three stacked charts over the day: traffic and capacity, replicas, p95 latency against the objective."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    tr = lambda key: translate(f"k8s.{key}", lang)  # noqa: E731
    f, mu = result.frame, result.config.pod_capacity_rps
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=(tr("fig_traffic"), tr("fig_replicas"), tr("fig_latency")))  # fmt: skip
    fig.add_trace(go.Scatter(x=f["hour"], y=f["rps"], name=tr("fig_rps"), line={"color": "#1c7ed6"}), 1, 1)
    fig.add_trace(go.Scatter(x=f["hour"], y=f["ready"] * mu, name=tr("fig_capacity"),
                             line={"color": "#2f9e44", "dash": "dot", "shape": "hv"}), 1, 1)  # fmt: skip
    fig.add_trace(
        go.Scatter(x=f["hour"], y=f["replicas"], name=tr("fig_running"), line={"color": "#7048e8", "shape": "hv"}), 2, 1
    )
    fig.add_trace(
        go.Scatter(x=f["hour"], y=f["ready"], name=tr("fig_ready"), line={"color": "#2f9e44", "shape": "hv"}), 2, 1
    )
    hours = [0, f["hour"].iloc[-1]]
    fig.add_trace(go.Scatter(x=hours, y=[result.config.max_replicas] * 2, name="maxReplicas", mode="lines",
                             line={"color": "#868e96", "dash": "dash"}), 2, 1)  # fmt: skip
    fig.add_trace(go.Scatter(x=f["hour"], y=f["p95_ms"], name=tr("fig_p95"), line={"color": "#e8590c"}), 3, 1)
    # a trace, not add_hline: shapes on a log axis take log10 coordinates
    fig.add_trace(go.Scatter(x=hours, y=[result.slo_ms] * 2, name=tr("fig_slo"), mode="lines",
                             line={"color": "#e03131", "dash": "dash"}), 3, 1)  # fmt: skip
    fig.update_yaxes(title_text="req/s", row=1, col=1)
    fig.update_yaxes(title_text=tr("fig_pods"), row=2, col=1, rangemode="tozero")
    fig.update_yaxes(title_text="ms", type="log", row=3, col=1)
    fig.update_xaxes(title_text=tr("fig_hour"), row=3, col=1, dtick=2)
    fig.update_layout(height=760, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.09})  # fmt: skip
    return localize_figure(fig, lang)


def hpa_yaml(config: HpaConfig, name: str = "loan-api") -> str:
    """The HorizontalPodAutoscaler matching the simulator's settings."""
    spec = ApiSpec(name=name, min_replicas=config.min_replicas, max_replicas=config.max_replicas,
                   target_cpu=config.target_cpu)  # fmt: skip
    hpa = generate_manifests(spec)[-1]
    hpa["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 60 * config.scale_down_window_minutes}}
    return to_yaml([hpa])


# --- The sizing exercise -----------------------------------------------------------------------

SIZING = {"peak_rps": 400.0, "slo_ms": 150.0, "tolerance": 0.05}
SIZING_TARGETS: tuple[int, ...] = tuple(range(30, 100, 5))


def sizing_traffic(peak_rps: float) -> np.ndarray:
    """The exercise's day: the daily curve (no burst)."""
    return daily_traffic(peak_rps)


@lru_cache(maxsize=16)
def cheapest_sizing(peak_rps: float, slo_ms: float, min_replicas: int = 2) -> tuple[int, int, float]:
    """The cheapest (max replicas, target CPU) of a grid whose worst p95 of the day meets the objective.

    Returns:
        (max replicas, target CPU %, cost of the day).

    Raises:
        K8sError: no setting of the grid meets the objective.
    """
    traffic = sizing_traffic(peak_rps)
    needed = max(min_replicas, math.ceil(peak_rps / HpaConfig().pod_capacity_rps))
    ceiling = needed * 3
    best: tuple[int, int, float] | None = None
    for target in SIZING_TARGETS:
        if simulate_autoscaling(traffic, HpaConfig(min_replicas, ceiling, target), slo_ms).peak_p95_ms > slo_ms:
            continue  # even with plenty of pods, this target reacts too late
        for high in range(needed, ceiling + 1):
            result = simulate_autoscaling(traffic, HpaConfig(min_replicas, high, target), slo_ms)
            if result.peak_p95_ms <= slo_ms:
                if best is None or result.cost < best[2] - 1e-9:
                    best = (high, target, result.cost)
                break  # a higher maximum costs the same or more
    if best is None:
        raise K8sError("error_no_sizing")
    return best


def sizing_path(settings: Settings, learner: str) -> Path:
    """Where the learner's HPA sizing is saved."""
    return learner_k8s_dir(settings, learner) / "hpa_sizing.json"


def save_sizing(settings: Settings, learner: str, config: HpaConfig) -> None:
    """Save the learner's HPA choice (min, max, target) for the sizing exercise."""
    data = {"min_replicas": config.min_replicas, "max_replicas": config.max_replicas,
            "target_cpu": config.target_cpu, "at": time.time()}  # fmt: skip
    write_json(sizing_path(settings, learner), data)


def check_hpa_sizing(
    ctx: CheckContext, peak_rps: float = 400.0, slo_ms: float = 150.0, tolerance: float = 0.05
) -> CheckResult:
    """Passed when the saved HPA keeps the worst p95 under `slo_ms` on the exercise's day, at most
    `tolerance` above the cheapest setting that does, with at least 2 replicas."""
    saved = read_json(sizing_path(ctx.settings, ctx.learner), None)
    try:
        config = HpaConfig(int(saved["min_replicas"]), int(saved["max_replicas"]), int(saved["target_cpu"]))
    except (KeyError, TypeError, ValueError):
        return CheckResult(False, (translate("k8s.check_no_sizing", ctx.lang),))
    if config.min_replicas < 2:
        return CheckResult(False, (translate("k8s.check_min_two", ctx.lang),))
    result = simulate_autoscaling(sizing_traffic(peak_rps), config, slo_ms)
    high, target, best_cost = cheapest_sizing(peak_rps, slo_ms)
    evidence = {"min": config.min_replicas, "max": config.max_replicas, "target": config.target_cpu,
                "p95_ms": round(result.peak_p95_ms, 1), "cost": round(result.cost, 3), "best_cost": round(best_cost, 3)}  # fmt: skip
    if result.peak_p95_ms > slo_ms:
        return CheckResult(False, (translate("k8s.check_too_slow", ctx.lang, p95=min(result.peak_p95_ms, SATURATED_MS),
                                             slo=slo_ms, minutes=result.minutes_over_slo),), evidence=evidence)  # fmt: skip
    if result.cost > best_cost * (1 + tolerance):
        return CheckResult(False, (translate("k8s.check_too_expensive", ctx.lang, cost=result.cost, best=best_cost,
                                             extra=100 * (result.cost / best_cost - 1)),), evidence=evidence)  # fmt: skip
    detail = translate(
        "k8s.check_sizing_ok", ctx.lang, p95=result.peak_p95_ms, slo=slo_ms, cost=result.cost, best=best_cost
    )
    return CheckResult(True, detail=detail, evidence=evidence)


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
            detail = (f"{ref.get('kind')}/{ref.get('name')} · {_get(d, 'spec', 'minReplicas')}–"
                      f"{_get(d, 'spec', 'maxReplicas')} replicas")  # fmt: skip
        elif kind in ("ConfigMap", "Secret"):
            detail = ", ".join(sorted((_get(d, "data") or _get(d, "stringData") or {}).keys()))
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
    from workbench.pipeline import source_block

    notes = k8s_annotations(settings).get("cloudbuild", {})
    lines = (settings.repo_root / CLOUDBUILD).read_text(encoding="utf-8").splitlines()
    out = []
    for step in load_cloudbuild(settings).get("steps") or []:
        step_id = str(step.get("id", ""))
        at = next((i for i, raw in enumerate(lines) if re.match(rf"^\s*- id: {re.escape(step_id)}\s*$", raw)), None)
        out.append((step_id, "" if at is None else source_block(lines, at), notes.get(step_id)))
    return out
