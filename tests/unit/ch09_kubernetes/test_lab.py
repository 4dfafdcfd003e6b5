"""Chapter IX: generated and shipped manifests validated with kubernetes-validate, label and port checks,
the HPA rule, the autoscaling simulator, cloudbuild.yaml, and the hands-on checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from workbench.chapters.ch09_kubernetes import lab as k8s
from workbench.core.exercises import CheckContext
from workbench.core.records import records_for
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


def _keys(report: k8s.ManifestReport) -> list[str]:
    return [p.key for p in report.problems]


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def test_generated_manifests_validate_in_strict_mode() -> None:
    documents = k8s.generate_manifests(k8s.ApiSpec())
    assert [d["kind"] for d in documents] == ["ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"]
    report = k8s.validate_text(k8s.to_yaml(documents))
    assert report.ok and report.problems == () and report.version == "1.37"
    deployment, service, hpa = documents[1], documents[2], documents[3]
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert (
        service["spec"]["ports"][0]["targetPort"]
        == deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    )
    assert (
        hpa["apiVersion"] == "autoscaling/v2"
        and hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    )
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_generated_yaml_round_trips() -> None:
    spec = k8s.ApiSpec(name="scorer", replicas=3, service_type="NodePort", container_port=9000, config={"A": "1"})
    text = k8s.to_yaml(k8s.generate_manifests(spec))
    assert text.startswith("---\napiVersion: v1\nkind: ConfigMap")
    loaded = list(yaml.safe_load_all(text))
    assert loaded[1]["spec"]["replicas"] == 3 and loaded[0]["data"] == {"A": "1"}
    assert loaded[2]["spec"]["type"] == "NodePort"


def test_generated_yaml_has_no_anchors_or_aliases() -> None:
    """The same labels dict sits in every document: it is written out in full, as a person would write it."""
    text = k8s.to_yaml(k8s.generate_manifests(k8s.ApiSpec(labels={"app": "loan-api", "tier": "api"})))
    assert "&id" not in text and "*id" not in text
    assert text.count("app: loan-api") == 7  # 4 metadata, Deployment selector and template, Service selector
    assert "labels:\n    app: loan-api\n    tier: api" in text


def test_a_selector_that_misses_one_label_is_named_exactly() -> None:
    spec = k8s.ApiSpec(labels={"app": "loan-api", "tier": "api"}, selector={"app": "loan-model", "tier": "api"})
    report = k8s.validate_text(k8s.to_yaml(k8s.generate_manifests(spec)))
    assert not report.ok and _keys(report) == ["service_label_differs"]
    problem = report.problems[0]
    assert (
        problem.params["key"] == "app"
        and problem.params["wanted"] == "loan-model"
        and problem.params["actual"] == "loan-api"
    )
    assert problem.message("en") == (
        "Service/loan-api selects `app=loan-model`, but the pods of Deployment/loan-api carry `app=loan-api` "
        "(their labels: app=loan-api, tier=api). No pod is selected: the Service has no endpoints."
    )
    assert "portent `app=loan-api`" in problem.message("fr")


def test_a_selector_key_the_pods_do_not_have() -> None:
    spec = k8s.ApiSpec(labels={"app": "loan-api"}, selector={"app": "loan-api", "version": "v2"})
    report = k8s.validate_text(k8s.to_yaml(k8s.generate_manifests(spec)))
    assert _keys(report) == ["service_label_missing"]
    assert "have no `version` label (their labels: app=loan-api)" in report.problems[0].message("en")


def test_extra_pod_labels_do_not_matter() -> None:
    spec = k8s.ApiSpec(labels={"app": "loan-api", "tier": "api", "team": "risk"}, selector={"app": "loan-api"})
    assert k8s.validate_text(k8s.to_yaml(k8s.generate_manifests(spec))).ok


@pytest.mark.parametrize(
    "selector, labels, expected",
    [
        ({"app": "a"}, {"app": "a", "x": "1"}, []),
        ({"app": "a"}, {"app": "b"}, [("app", "a", "b")]),
        ({"app": "a", "tier": "api"}, {"app": "a"}, [("tier", "api", None)]),
        ({}, {"app": "a"}, []),
    ],
)
def test_label_mismatches(selector, labels, expected) -> None:
    assert k8s.label_mismatches(selector, labels) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("app=loan-api, tier=api", {"app": "loan-api", "tier": "api"}),
        ("app: loan-api\napp.kubernetes.io/part-of=mlops", {"app": "loan-api", "app.kubernetes.io/part-of": "mlops"}),
        ("", {}),
    ],
)
def test_parse_labels(text, expected) -> None:
    assert k8s.parse_labels(text) == expected


@pytest.mark.parametrize(
    "text, key",
    [("app", "error_label_format"), ("bad key=x", "error_label_key"), ("app=no spaces", "error_label_value")],
)
def test_parse_labels_refuses_bad_labels(text, key) -> None:
    with pytest.raises(k8s.K8sError) as info:
        k8s.parse_labels(text)
    assert info.value.key == key and info.value.message("fr")


@pytest.mark.parametrize(
    "change, key",
    [
        ({"name": "Loan_API"}, "error_name"),
        ({"image": "my image"}, "error_image"),
        ({"container_port": 70000}, "error_port"),
        ({"service_type": "Ingress"}, "error_service_type"),
        ({"cpu_request": "lots"}, "error_quantity"),
        ({"labels": {}}, "error_no_labels"),
        ({"min_replicas": 5, "max_replicas": 3}, "error_replicas"),
        ({"target_cpu": 0}, "error_target"),
    ],
)
def test_generator_refuses_bad_inputs(change, key) -> None:
    with pytest.raises(k8s.K8sError) as info:
        k8s.generate_manifests(k8s.ApiSpec(**change))
    assert info.value.key == key


# --------------------------------------------------------------------------------------------
# Validation: schema errors and cross-checks
# --------------------------------------------------------------------------------------------


def test_the_broken_manifest_has_the_expected_problems() -> None:
    report = k8s.validate_text(k8s.BROKEN_MANIFEST)
    assert sorted(_keys(report)) == sorted(
        ["type", "required", "unknown_field_hint", "service_label_differs", "port_mismatch", "hpa_target_missing"]
    )
    messages = {p.key: p.message("en") for p in report.problems}
    assert "`spec.replicas`: expected integer, found '2'" in messages["type"]
    assert "there is no field `contianerPort`. Did you mean `containerPort`?" in messages["unknown_field_hint"]
    assert (
        "selects `app=loan-model`, but the pods of Deployment/loan-api carry `app=loan-api`"
        in messages["service_label_differs"]
    )
    assert "`targetPort: 8080`, but the containers of Deployment/loan-api listen on —" in messages["port_mismatch"]
    assert "targets `Deployment/loan-api-deployment`" in messages["hpa_target_missing"]


def _fixed_manifest() -> str:
    text = k8s.BROKEN_MANIFEST.replace('replicas: "2"', "replicas: 2").replace("contianerPort", "containerPort")
    text = text.replace("app: loan-model", "app: loan-api").replace("targetPort: 8080", "targetPort: 8000")
    text = text.replace("name: loan-api-deployment", "name: loan-api")
    return text.replace(
        "            - containerPort: 8000\n",
        "            - containerPort: 8000\n          resources:\n            requests:\n              cpu: 250m\n",
    )


def test_fixing_the_broken_manifest_step_by_step() -> None:
    text = _fixed_manifest()
    without_request = text.replace("          resources:\n            requests:\n              cpu: 250m\n", "")
    assert _keys(k8s.validate_text(without_request)) == ["hpa_no_cpu_request"]
    assert k8s.validate_text(text).ok


@pytest.mark.parametrize(
    "text, key",
    [
        ("apiVersion: v1\nkind: Service\nmetadata: {name: x\n", "yaml"),
        ("", "empty"),
        ("- a\n- b\n", "not_mapping"),
        ("metadata: {name: x}\n", "no_kind"),
        ("apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\n", "unknown_kind"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n", "type"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n", "no_name"),
    ],
)
def test_parse_and_schema_problems(text, key) -> None:
    report = k8s.validate_text(text)
    assert key in _keys(report) and not report.ok
    assert all(p.message("fr") and p.message("en") for p in report.problems)


def test_yaml_error_gives_the_line() -> None:
    report = k8s.validate_text("apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n")
    assert report.problems[0].message("en").startswith("Unreadable YAML at line 4: found character '\\t'")


def test_deployment_selector_must_match_its_own_template() -> None:
    documents = k8s.generate_manifests(k8s.ApiSpec())
    documents[1]["spec"]["selector"]["matchLabels"] = {"app": "loan-api", "tier": "web"}
    report = k8s.ManifestReport(tuple(documents), tuple(k8s.validate_documents(documents)))
    assert [p.key for p in report.errors] == ["workload_label_differs"]
    assert "carries `tier=api`" in report.errors[0].message("en")


def test_named_target_port_duplicates_min_max_and_references() -> None:
    documents = k8s.generate_manifests(k8s.ApiSpec())
    documents[2]["spec"]["ports"][0]["targetPort"] = "http"  # the container port's name: fine
    assert k8s.validate_documents(documents) == []
    documents[2]["spec"]["ports"][0]["targetPort"] = "grpc"
    documents[3]["spec"]["minReplicas"], documents[3]["spec"]["maxReplicas"] = 5, 3
    keys = [p.key for p in k8s.validate_documents([*documents[1:], copy.deepcopy(documents[2])])]
    assert keys.count("duplicate") == 1 and "port_mismatch" in keys and "hpa_min_max" in keys
    assert "missing_reference" in keys  # the ConfigMap was left out
    warning = next(p for p in k8s.validate_documents(documents[1:]) if p.key == "missing_reference")
    assert warning.severity == "warning" and "ConfigMap `loan-api-config`" in warning.message("en")


def test_service_without_selector_or_workload_is_a_warning() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    assert [p.key for p in k8s.semantic_problems([service])] == ["service_no_selector"]
    service["spec"]["selector"] = {"app": "x"}
    problems = k8s.semantic_problems([service])
    assert [p.key for p in problems] == ["service_no_workload"] and problems[0].severity == "warning"


def test_problems_table_in_both_languages() -> None:
    report = k8s.validate_text(k8s.BROKEN_MANIFEST)
    table = k8s.problems_table(report, "fr")
    assert list(table.columns) == ["Gravité", "Ressource", "Problème"] and len(table) == 6
    assert set(k8s.problems_table(report, "en")["Severity"]) == {"error"}
    assert "attendu nombre entier, trouvé '2'" in table["Problème"][0]


def test_validation_code_runs_and_finds_the_same_first_error(tmp_path) -> None:
    import contextlib
    import io
    import os

    (tmp_path / "loan-api.yaml").write_text(k8s.BROKEN_MANIFEST)
    output = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(output):
            exec(k8s.validation_code("loan-api.yaml"), {})
    finally:
        os.chdir(cwd)
    lines = output.getvalue().splitlines()
    assert lines[0].startswith("invalid: Deployment spec") and lines[1] == "valid: Service loan-api"


# --------------------------------------------------------------------------------------------
# The broken-manifest exercise
# --------------------------------------------------------------------------------------------


def test_check_fixed_manifest() -> None:
    settings, ctx = get_settings(), _ctx("fr")
    assert "Aucun manifeste enregistré" in k8s.check_fixed_manifest(ctx).missing[0]
    report = k8s.save_manifest(settings, "ana", k8s.BROKEN_MANIFEST)
    assert not report.ok
    result = k8s.check_fixed_manifest(ctx)
    assert not result.passed and result.missing[0] == "Encore 6 erreurs :" and len(result.missing) == 6
    only_deployment = _fixed_manifest().split("---")[0]
    k8s.save_manifest(settings, "ana", only_deployment)
    assert "il manque : Service, HorizontalPodAutoscaler" in k8s.check_fixed_manifest(ctx).missing[0]
    k8s.save_manifest(settings, "ana", _fixed_manifest())
    result = k8s.check_fixed_manifest(_ctx("en"))
    assert result.passed and "The Service finds its pods" in result.detail
    assert k8s.load_manifest(settings, "ana") == _fixed_manifest()
    with pytest.raises(k8s.K8sError):
        k8s.save_manifest(settings, "ana", "x" * (k8s.MAX_MANIFEST_BYTES + 1))


# --------------------------------------------------------------------------------------------
# HPA rule and autoscaling simulator
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, metric, target, low, high, expected",
    [
        (3, 140, 70, 1, 10, 6),  # the lesson's example
        (4, 105, 70, 1, 10, 6),  # the quiz: ceil(4 × 1.5)
        (4, 105, 70, 1, 5, 5),  # clamped by maxReplicas
        (10, 20, 70, 2, 20, 3),  # scale down: ceil(10 × 20/70) = ceil(2.86)
        (1, 5, 70, 2, 10, 2),  # never under minReplicas
        (5, 75, 70, 1, 10, 5),  # within the 10 % tolerance: no change
        (5, 78, 70, 1, 10, 6),  # ratio 1.114: outside the tolerance
    ],
)
def test_hpa_rule(current, metric, target, low, high, expected) -> None:
    assert k8s.hpa_desired_replicas(current, metric, target, low, high) == expected


def test_daily_traffic_shape() -> None:
    traffic = k8s.daily_traffic(400)
    assert len(traffic) == 1440 and traffic.max() == pytest.approx(400)
    assert int(np.argmax(traffic)) == 18 * 60 and traffic.min() == pytest.approx(48)
    spiky = k8s.daily_traffic(400, spike=True)
    assert (spiky[600:615] == 400).all() and spiky[599] < 200


def test_mm_c_latency_against_known_values() -> None:
    # one server (M/M/1): response time is exponential with rate mu - lambda, so p95 = ln(20) / (mu - lambda)
    p95 = k8s.p95_latency_ms(np.array([20.0]), np.array([1]), 40.0)
    assert p95[0] == pytest.approx(1000 * np.log(20) / 20, rel=1e-4)
    # Erlang C for c=2, a=1: P(wait) = 1/3
    assert k8s.erlang_c(np.array([2]), np.array([1.0]))[0] == pytest.approx(1 / 3)
    # saturated and no pod ready
    assert list(k8s.p95_latency_ms(np.array([100.0, 5.0]), np.array([2, 0]), 40.0)) == [k8s.SATURATED_MS] * 2
    # more pods, lower latency
    latencies = k8s.p95_latency_ms(np.array([300.0] * 3), np.array([8, 10, 20]), 40.0)
    assert latencies[0] > latencies[1] > latencies[2] > 1000 * np.log(20) / 40 * 0.99


def test_simulation_follows_the_traffic_and_costs_pod_hours() -> None:
    traffic = k8s.daily_traffic(400)
    result = k8s.simulate_autoscaling(traffic, k8s.HpaConfig(2, 20, 70), slo_ms=200)
    f = result.frame
    assert f["replicas"].min() == 2 and f["replicas"].max() <= 20
    assert f.loc[18 * 60, "replicas"] > f.loc[3 * 60, "replicas"]  # more pods at the evening peak than at night
    assert result.pod_hours == pytest.approx(f["replicas"].sum() / 60)
    assert result.cost == pytest.approx(result.pod_hours * (0.5 * 0.0445 + 0.5 * 0.0049))
    assert (f["ready"] <= f["replicas"]).all()
    again = k8s.simulate_autoscaling(traffic, k8s.HpaConfig(2, 20, 70), slo_ms=200)
    assert again.frame.equals(f)  # deterministic


def test_too_few_pods_saturate_and_drop_requests() -> None:
    result = k8s.simulate_autoscaling(k8s.daily_traffic(400), k8s.HpaConfig(2, 5, 70), slo_ms=150)
    assert result.peak_p95_ms == k8s.SATURATED_MS and result.dropped_share > 0.1
    assert result.max_replicas_used == 5


def test_a_lower_target_costs_more_and_is_faster() -> None:
    traffic = k8s.daily_traffic(400)
    cautious = k8s.simulate_autoscaling(traffic, k8s.HpaConfig(2, 30, 50), 150)
    greedy = k8s.simulate_autoscaling(traffic, k8s.HpaConfig(2, 30, 90), 150)
    assert cautious.cost > greedy.cost and cautious.peak_p95_ms < greedy.peak_p95_ms


def test_slow_startup_hurts_a_burst() -> None:
    traffic = k8s.daily_traffic(400, spike=True)
    fast = k8s.simulate_autoscaling(traffic, k8s.HpaConfig(2, 30, 60, startup_minutes=0), 150)
    slow = k8s.simulate_autoscaling(traffic, k8s.HpaConfig(2, 30, 60, startup_minutes=5), 150)
    assert slow.minutes_over_slo > fast.minutes_over_slo


def test_simulator_refuses_inconsistent_settings() -> None:
    with pytest.raises(k8s.K8sError):
        k8s.simulate_autoscaling(k8s.daily_traffic(100), k8s.HpaConfig(5, 3, 70))
    with pytest.raises(k8s.K8sError):
        k8s.simulate_autoscaling(k8s.daily_traffic(100), k8s.HpaConfig(pod_capacity_rps=0))


def test_autoscaling_figure_and_hpa_yaml() -> None:
    result = k8s.simulate_autoscaling(k8s.daily_traffic(300), k8s.HpaConfig(2, 12, 65), 150)
    fig = k8s.autoscaling_figure(result, "fr")
    assert [trace.name for trace in fig.data] == [
        "Trafic",
        "Capacité",
        "Pods lancés (facturés)",
        "Pods prêts",
        "maxReplicas",
        "p95",
        "objectif",
    ]
    assert list(fig.data[-1].y) == [150, 150]  # the objective, in data units on the log axis
    assert fig.layout.yaxis3.type == "log"
    hpa = yaml.safe_load(k8s.hpa_yaml(k8s.HpaConfig(3, 12, 65)))
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert k8s.schema_problems(hpa) == []


def test_cheapest_sizing_and_the_check() -> None:
    high, target, cost = k8s.cheapest_sizing(400.0, 150.0)
    assert (high, target) == (11, 65) and cost == pytest.approx(3.405, abs=0.01)
    settings, ctx = get_settings(), _ctx()
    assert "No saved choice" in k8s.check_hpa_sizing(ctx).missing[0]
    k8s.save_sizing(settings, "ana", k8s.HpaConfig(1, 12, 65))
    assert "at least 2 replicas" in k8s.check_hpa_sizing(ctx).missing[0]
    k8s.save_sizing(settings, "ana", k8s.HpaConfig(2, 12, 80))
    assert "above 150 ms" in k8s.check_hpa_sizing(ctx).missing[0]
    k8s.save_sizing(settings, "ana", k8s.HpaConfig(2, 30, 40))
    assert "too much headroom" in k8s.check_hpa_sizing(ctx).missing[0]
    k8s.save_sizing(settings, "ana", k8s.HpaConfig(2, 12, 65))
    result = k8s.check_hpa_sizing(_ctx("fr"))
    assert result.passed and "Bien dimensionné" in result.detail
    saved = records_for(settings, "ana").get_json(k8s.SIZING_KEY)
    assert (saved["min_replicas"], saved["max_replicas"], saved["target_cpu"]) == (2, 12, 65)


def test_no_sizing_meets_an_impossible_objective() -> None:
    with pytest.raises(k8s.K8sError) as info:
        k8s.cheapest_sizing(400.0, 20.0)
    assert info.value.key == "error_no_sizing"


# --------------------------------------------------------------------------------------------
# The project's manifests and cloudbuild.yaml
# --------------------------------------------------------------------------------------------


def test_shipped_manifests_validate_and_agree() -> None:
    reports = k8s.validate_shipped(get_settings())
    assert set(reports) == {"api.yaml", "app.yaml", "gateway.yaml", "mlflow.yaml", "postgres.yaml", "*"}
    for name, report in reports.items():
        # Gateway API kinds are CRDs: no schema in kubernetes-validate, said as a warning; nothing else at all
        problems = [p for p in report.problems if p.key != "crd_kind"]
        assert problems == [], (name, [p.message("en") for p in problems])
        assert report.ok
    assert sorted(p.resource for p in reports["gateway.yaml"].problems) == [
        "Gateway/workbench",
        "HTTPRoute/workbench-app",
    ]
    kinds = reports["*"].kinds()
    for expected in (
        "Deployment/workbench-app",
        "Service/workbench-app",
        "Secret/workbench-app",
        "Deployment/workbench-api",
        "Service/workbench-api",
        "HorizontalPodAutoscaler/workbench-api",
        "ConfigMap/workbench-api-config",
        "Deployment/mlflow",
        "Service/mlflow",
        "PersistentVolumeClaim/mlflow-artifacts",
        "Secret/postgres",
        "Secret/workbench-db",
        "ConfigMap/postgres-init",
        "StatefulSet/postgres",
        "Service/postgres",
        "Gateway/workbench",
        "HTTPRoute/workbench-app",
    ):
        assert expected in kinds
    assert "Ingress" not in {k.split("/")[0] for k in kinds}  # routing is the Gateway API's (ingress-nginx is retired)


def test_shipped_class_deployment_scales_past_one_pod() -> None:
    docs = _documents()
    placeholders = {k for k, d in docs.items() if d["metadata"]["labels"].get("mlops-workbench/placeholder") == "true"}
    # every Secret is a placeholder that the real deployment (README, cloudbuild.yaml) leaves out, and only those
    assert placeholders == {k for k in docs if k.startswith("Secret/")} and len(placeholders) == 4
    app = docs["Deployment/workbench-app"]
    assert app["spec"]["replicas"] >= 2 and app["spec"]["strategy"]["type"] == "RollingUpdate"
    pod = app["spec"]["template"]["spec"]
    assert all("persistentVolumeClaim" not in v for v in pod["volumes"])  # no per-pod state that matters
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["WORKBENCH_MODE"]["value"] == "class"
    assert env["WORKBENCH_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "workbench-db", "key": "url"}
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "workbench-app"
    url = docs["Secret/workbench-db"]["stringData"]["url"]
    assert url.startswith("postgresql+psycopg://") and url.endswith("@postgres:5432/workbench")
    service = docs["Service/workbench-app"]["spec"]
    assert service["type"] == "ClusterIP" and service["sessionAffinity"] == "ClientIP"
    assert service["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] >= 3600

    # PostgreSQL: a StatefulSet with its volume, credentials from a Secret, the workbench's database created
    postgres = docs["StatefulSet/postgres"]
    assert postgres["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    container = postgres["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "postgres"}}]
    script = (REPO_ROOT / "deploy" / "postgres" / "init-workbench-db.sh").read_text()
    assert docs["ConfigMap/postgres-init"]["data"]["init-workbench-db.sh"] == script  # one script, two copies
    assert "CREATE DATABASE workbench" in script

    # MLflow on PostgreSQL, artifacts on a volume it serves; the shared API in class mode with its HPA
    mlflow = docs["Deployment/mlflow"]["spec"]["template"]["spec"]["containers"][0]
    assert "--serve-artifacts" in mlflow["command"] and "--artifacts-destination" in mlflow["command"]
    backend = next(e["value"] for e in mlflow["env"] if e["name"] == "MLFLOW_BACKEND_STORE_URI")
    assert backend.endswith("@postgres:5432/mlflow")
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in mlflow["env"] if "valueFrom" in e} == {"postgres"}
    assert docs["ConfigMap/workbench-api-config"]["data"]["WORKBENCH_MODE"] == "class"
    hpa = docs["HorizontalPodAutoscaler/workbench-api"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "workbench-api" and hpa["minReplicas"] >= 2

    # the Gateway routes the class to the app's Service, on the port it exposes
    route = docs["HTTPRoute/workbench-app"]["spec"]
    assert route["parentRefs"] == [{"name": "workbench"}]
    assert route["rules"][0]["backendRefs"] == [{"name": "workbench-app", "port": service["ports"][0]["port"]}]
    assert docs["Gateway/workbench"]["spec"]["listeners"][0]["protocol"] == "HTTP"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (
            ("name: workbench-app\n          port: 8501", "name: workbench-apq\n          port: 8501"),
            "route_backend_missing",
        ),
        (
            ("name: workbench-app\n          port: 8501", "name: workbench-app\n          port: 80"),
            "route_backend_port",
        ),
        (("parentRefs:\n    - name: workbench", "parentRefs:\n    - name: elsewhere"), "route_parent_missing"),
    ],
)
def test_a_broken_route_is_caught(change, key) -> None:
    text = "\n---\n".join(k8s.shipped_manifests(get_settings()).values())
    broken = text.replace(*change)
    assert broken != text
    report = k8s.validate_text(broken)
    found = [p for p in report.problems if p.key != "crd_kind"]
    assert [p.key for p in found] == [key]
    assert "HTTPRoute/workbench-app" in found[0].message("en")


def _documents() -> dict[str, dict]:
    reports = k8s.validate_shipped(get_settings())
    return {k8s.resource_id(d): d for d in reports["*"].documents}


@pytest.mark.parametrize(
    "deployment, service, port",
    [
        ("workbench-app", "workbench-app", 8501),
        ("workbench-api", "workbench-api", 8000),
        ("mlflow", "mlflow", 5000),
        ("postgres", "postgres", 5432),
    ],
)
def test_shipped_ports_agree_with_docker_compose(deployment, service, port) -> None:
    docs = _documents()
    workload = docs.get(f"Deployment/{deployment}") or docs[f"StatefulSet/{deployment}"]
    container = workload["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == port
    assert docs[f"Service/{service}"]["spec"]["ports"][0]["targetPort"] == port
    assert workload["spec"]["template"]["spec"]["enableServiceLinks"] is False
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    published = {name: s.get("ports", []) for name, s in compose["services"].items()}
    if port != 5432:
        assert any(p.endswith(f":{port}") for ports in published.values() for p in ports)


def test_shipped_wiring_matches_the_services() -> None:
    docs = _documents()
    config = docs["ConfigMap/workbench-api-config"]["data"]
    assert config["MLFLOW_TRACKING_URI"] == "http://mlflow:5000" and config["WORKBENCH_API_PORT"] == "8000"
    app_env = {
        e["name"]: e.get("value", e.get("valueFrom"))
        for e in docs["Deployment/workbench-app"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert app_env["WORKBENCH_API_HOST"] == "workbench-api" and app_env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    mlflow = docs["Deployment/mlflow"]["spec"]["template"]["spec"]["containers"][0]
    assert mlflow["image"].startswith("ghcr.io/mlflow/mlflow:v3.17.2")  # -full: with the PostgreSQL drivers
    assert "postgresql+psycopg2://" in next(
        e["value"] for e in mlflow["env"] if e["name"] == "MLFLOW_BACKEND_STORE_URI"
    )
    assert "mlflow:5000" in mlflow["command"][-1]


def test_breaking_a_shipped_label_is_caught() -> None:
    text = (REPO_ROOT / "deploy" / "k8s" / "api.yaml").read_text()
    broken = text.replace("  selector:\n    app: workbench-api\n", "  selector:\n    app: workbench-apl\n")
    assert broken != text
    report = k8s.validate_text(broken)
    assert [p.key for p in report.errors] == ["service_label_differs"]
    assert "`app=workbench-apl`" in report.errors[0].message("en")


def test_resources_table_describes_each_resource() -> None:
    reports = k8s.validate_shipped(get_settings())
    table = k8s.resources_table(reports["api.yaml"].documents, "en")
    assert table["Kind"].tolist() == ["Secret", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"]
    assert "containerPort: 8000" in table["What matters"][2] and "8000→8000" in table["What matters"][3]
    route = k8s.resources_table(reports["gateway.yaml"].documents, "en")["What matters"].tolist()
    assert route == ["class gke-l7-global-external-managed · HTTP:80", "Gateway workbench → Service workbench-app:8501"]


def test_cloudbuild_builds_pushes_and_deploys_with_every_step_explained() -> None:
    settings = get_settings()
    build = k8s.load_cloudbuild(settings)
    ids = [s["id"] for s in build["steps"]]
    assert ids[:1] == ["test"] and "apply" in ids and ids[-1] == "rollout"
    by_id = {s["id"]: s for s in build["steps"]}
    assert by_id["build-api"]["name"] == "gcr.io/cloud-builders/docker"
    assert "-docker.pkg.dev/$PROJECT_ID/" in " ".join(by_id["push-api"]["args"])  # Artifact Registry, not gcr.io
    assert by_id["apply"]["name"] == "gcr.io/cloud-builders/kubectl" and by_id["apply"]["args"] == [
        "apply",
        "-f",
        "deploy/k8s/",
        "-l",
        "mlops-workbench/placeholder!=true",
    ]
    assert "deployment/workbench-api" in by_id["set-image-api"]["args"]
    assert all(note is not None for _, _, note in k8s.cloudbuild_steps(settings))
    notes = k8s.k8s_annotations(settings)
    assert set(notes["manifests"]) == set(k8s.shipped_manifests(settings))
    assert all(step["command"].strip() and step["fr"] and step["en"] for step in notes["gke_steps"])


def test_apply_code_mentions_the_version() -> None:
    code = k8s.apply_code("x.yaml")
    assert (
        f"--kubernetes-version {k8s.K8S_VERSION} x.yaml" in code
        and "kubectl get endpointslices" in code
        and "get endpoints " not in code
    )


def test_schema_checks_agree_with_kubernetes_validate() -> None:
    import kubernetes_validate

    documents = [*k8s.validate_shipped(get_settings())["*"].documents, *k8s.parse_manifests(k8s.BROKEN_MANIFEST)[0]]
    for document in documents:
        try:
            kubernetes_validate.validate(document, k8s.K8S_VERSION, strict=True)
            official = True
        except kubernetes_validate.ValidationError:
            official = False
        except kubernetes_validate.utils.SchemaNotFoundError:  # a CRD (the Gateway API): said, not hidden
            assert [p.key for p in k8s.schema_problems(document)] == ["crd_kind"]
            continue
        assert official == (k8s.schema_problems(document) == []), k8s.resource_id(document)
    errors = [d for d in documents if any(p.severity == "error" for p in k8s.schema_problems(d))]
    assert len(errors) == 1  # the broken Deployment
