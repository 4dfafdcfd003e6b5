"""Kubernetes manifest generator: Deployment, Service, HPA for the app and the API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.core.i18n import LocalizedError

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
    config: dict[str, str] = field(
        default_factory=lambda: {
            "MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "WORKBENCH_API_ALIAS": "production",
            "LOG_LEVEL": "info",
        }
    )


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
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": spec.container_port},
            "periodSeconds": 15,
            "initialDelaySeconds": 20,
        },
    }
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
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": spec.target_cpu},
                    },
                }
            ],
        },
    }
    return [configmap, deployment, service, hpa]


def to_yaml(documents: list[dict]) -> str:
    """Documents as one multi-document YAML file (`---` between them), keys in a readable order."""
    import yaml

    class PlainDumper(yaml.SafeDumper):
        """Writes a dict shared by several places in full each time (no `&id001` / `*id001`)."""

        def ignore_aliases(self, data: object) -> bool:
            return True

    return yaml.dump_all(documents, Dumper=PlainDumper, sort_keys=False, explicit_start=True, default_flow_style=False)


def apply_code(filename: str = "loan-api.yaml") -> str:
    """The commands that validate and apply a manifest file, and look at what it created."""
    return (
        f"pip install kubernetes-validate\nkubernetes-validate --strict --kubernetes-version {K8S_VERSION} {filename}\n"
        f"kubectl apply --dry-run=server -f {filename}    # the API server checks it too (needs a cluster)\n"
        f"kubectl apply -f {filename}\nkubectl get pods --show-labels\nkubectl get endpoints loan-api      # empty: the selector matches no pod\n"
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
