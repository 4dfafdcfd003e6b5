"""Manifest validation (schemas, labels, ports, HPA target, references) and the broken-manifest exercise."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from workbench.chapters.ch09_kubernetes.lab.manifests import K8S_VERSION, MAX_MANIFEST_BYTES, WORKLOAD_KINDS, K8sError
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

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
        expected = (
            error.validator_value
            if isinstance(error.validator_value, str)
            else " / ".join(v for v in error.validator_value if v != "null")
        )
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
    if str(document.get("apiVersion", "")).startswith(GATEWAY_API_GROUP + "/"):
        # Gateway API kinds are CRDs, installed with the cluster's gateway controller: kubernetes-validate ships
        # no schema for them. Said plainly; their references are checked in `semantic_problems`.
        return [Problem("warning", resource, "crd_kind", {"kind": document.get("kind"), "api": document["apiVersion"]})]
    try:
        validator = _validator(str(document["kind"]), str(document["apiVersion"]), version)
    except (FileNotFoundError, utils.VersionNotSupportedError, utils.InvalidSchemaError):
        return [
            Problem(
                "error",
                resource,
                "unknown_kind",
                {"kind": document.get("kind"), "api": document.get("apiVersion"), "version": version},
            )
        ]
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
        params = {
            "resource": resource,
            "owner": owner,
            "key": key,
            "wanted": wanted,
            "actual": actual,
            "labels": _fmt_labels(labels),
        }
        problems.append(
            Problem("error", resource, f"{kind}_label_missing" if actual is None else f"{kind}_label_differs", params)
        )
    return problems


def semantic_problems(documents: list[dict]) -> list[Problem]:
    """What the schemas cannot see: selectors vs labels, ports, HPA targets and requests, references."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for document in documents:
        ident = (
            str(document.get("kind")),
            str(_get(document, "metadata", "namespace") or ""),
            str(_get(document, "metadata", "name")),
        )
        if not _get(document, "metadata", "name"):
            problems.append(Problem("error", resource_id(document), "no_name", {}))
        elif ident in seen:
            problems.append(Problem("error", resource_id(document), "duplicate", {"resource": resource_id(document)}))
        seen.add(ident)
    workloads = [d for d in documents if d.get("kind") in WORKLOAD_KINDS]
    names = {
        kind: {str(_get(d, "metadata", "name")) for d in documents if d.get("kind") == kind}
        for kind in ("ConfigMap", "Secret", "PersistentVolumeClaim", *WORKLOAD_KINDS)
    }

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

    for route in (d for d in documents if d.get("kind") == "HTTPRoute"):
        problems += _route_problems(route, documents)
    return problems


#: The Gateway API (routing into the cluster; Ingress's successor; the community NGINX Ingress controller is retired).
GATEWAY_API_GROUP = "gateway.networking.k8s.io"


def _route_problems(route: dict, documents: list[dict]) -> list[Problem]:
    """An HTTPRoute's backends must be Services of these manifests, on a port they expose; its Gateway should be."""
    resource = resource_id(route)
    services = {str(_get(d, "metadata", "name")): d for d in documents if d.get("kind") == "Service"}
    gateways = {str(_get(d, "metadata", "name")) for d in documents if d.get("kind") == "Gateway"}
    problems: list[Problem] = []
    for parent in _get(route, "spec", "parentRefs") or []:
        if (
            isinstance(parent, dict)
            and parent.get("kind", "Gateway") == "Gateway"
            and parent.get("name") not in gateways
        ):
            problems.append(
                Problem("warning", resource, "route_parent_missing", {"resource": resource, "name": parent.get("name")})
            )
    for rule in _get(route, "spec", "rules") or []:
        for backend in (rule.get("backendRefs") if isinstance(rule, dict) else None) or []:
            if not isinstance(backend, dict) or backend.get("kind", "Service") != "Service":
                continue
            name, port = str(backend.get("name")), backend.get("port")
            service = services.get(name)
            if service is None:
                problems.append(
                    Problem("error", resource, "route_backend_missing", {"resource": resource, "name": name})
                )
                continue
            ports = [p.get("port") for p in _get(service, "spec", "ports") or [] if isinstance(p, dict)]
            if port not in ports:
                problems.append(
                    Problem(
                        "error",
                        resource,
                        "route_backend_port",
                        {"resource": resource, "name": name, "port": port, "ports": ", ".join(map(str, ports)) or "—"},
                    )
                )
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
    return [
        Problem("warning", resource, "missing_reference", {"resource": resource, "kind": kind, "name": name})
        for kind, name in dict.fromkeys(refs)
        if name not in names.get(kind, set())
    ]


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
        best = min(
            workloads,
            key=lambda w: (len(label_mismatches(selector, _pod_labels(w))), _get(w, "metadata", "name") != name),
        )
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
                problems.append(
                    Problem(
                        "error",
                        resource,
                        "port_mismatch",
                        {
                            "resource": resource,
                            "port": port.get("port"),
                            "target": target,
                            "owner": resource_id(workload),
                            "ports": ", ".join(map(str, numbers)) or "—",
                        },
                    )
                )
    return problems


def _hpa_problems(hpa: dict, workloads: list[dict]) -> list[Problem]:
    resource = resource_id(hpa)
    problems: list[Problem] = []
    ref = _get(hpa, "spec", "scaleTargetRef") or {}
    kind, name = ref.get("kind"), ref.get("name")
    target = next((w for w in workloads if w.get("kind") == kind and _get(w, "metadata", "name") == name), None)
    if target is None:
        available = ", ".join(resource_id(w) for w in workloads) or "—"
        problems.append(
            Problem(
                "error",
                resource,
                "hpa_target_missing",
                {"resource": resource, "kind": kind, "name": name, "available": available},
            )
        )
    low, high = _get(hpa, "spec", "minReplicas"), _get(hpa, "spec", "maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(Problem("error", resource, "hpa_min_max", {"min": low, "max": high}))
    uses_cpu = any(
        _get(m, "resource", "name") == "cpu" and _get(m, "resource", "target", "type") == "Utilization"
        for m in (_get(hpa, "spec", "metrics") or [])
        if isinstance(m, dict)
    )
    if target is not None and uses_cpu:
        missing = [str(c.get("name")) for c in _containers(target) if not _get(c, "resources", "requests", "cpu")]
        if missing:
            problems.append(
                Problem(
                    "error",
                    resource,
                    "hpa_no_cpu_request",
                    {"resource": resource, "owner": resource_id(target), "containers": ", ".join(missing)},
                )
            )
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


MANIFEST_KEY = "ch09_kubernetes/manifest.yaml"  # the learner's edited manifest


def manifest_location(settings: Settings, learner: str) -> str:
    """Where the learner's edited manifest is kept, to show them (a file in solo mode)."""
    return records_for(settings, learner).where(MANIFEST_KEY)


def save_manifest(settings: Settings, learner: str, text: str) -> ManifestReport:
    """Save the learner's manifest and return its validation report.

    Raises:
        K8sError: the text is larger than MAX_MANIFEST_BYTES.
    """
    if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
        raise K8sError("error_too_big", max=MAX_MANIFEST_BYTES)
    records_for(settings, learner).put_text(MANIFEST_KEY, text)
    return validate_text(text)


def load_manifest(settings: Settings, learner: str) -> str | None:
    """The learner's saved manifest (None when there is none)."""
    return records_for(settings, learner).get_text(MANIFEST_KEY)


def check_fixed_manifest(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's saved manifest validates, keeps its Deployment, Service and HPA, and matches."""
    text = load_manifest(ctx.settings, ctx.learner)
    if text is None:
        return failed(translate("k8s.check_no_manifest", ctx.lang))
    report = validate_text(text)
    kinds = {d.get("kind") for d in report.documents}
    missing = [k for k in REQUIRED_KINDS if k not in kinds]
    evidence = {"resources": report.kinds(), "errors": len(report.errors)}
    if missing:
        return failed(translate("k8s.check_missing_kinds", ctx.lang, kinds=", ".join(missing)), evidence=evidence)
    if report.errors:
        lines = tuple(p.message(ctx.lang) for p in report.errors[:5])
        head = translate("k8s.check_still_errors", ctx.lang, n=len(report.errors))
        return failed(head, *lines, evidence=evidence)
    return passed(translate("k8s.check_manifest_ok", ctx.lang, resources=", ".join(report.kinds())), evidence=evidence)
