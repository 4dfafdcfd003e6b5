"""AppTest of chapter IX, tab by tab: generator, broken manifest, autoscaling, GKE and Cloud Build."""

from __future__ import annotations

from pathlib import Path

from workbench.chapters.ch09_kubernetes import lab as k8s
from workbench.core.records import records_for
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

PAGE = "09_kubernetes"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_generator_validates_and_explains_a_selector_mismatch() -> None:
    at = open_app("en", PAGE)
    assert_no_exception(at)
    assert "4 resources valid for Kubernetes 1.37" in _texts(at.success)
    assert any("kind: HorizontalPodAutoscaler" in c.value and "averageUtilization: 70" in c.value for c in at.code)
    at.text_input(key="ch09_selector").set_value("app=loan-model, tier=api").run()
    assert_no_exception(at)
    assert "1 error(s) and 0 warning(s)" in _texts(at.error)
    assert (
        "**Service/loan-api** — Service/loan-api selects `app=loan-model`, but the pods of Deployment/loan-api "
        "carry `app=loan-api`" in _texts(at.markdown)
    )
    labels = _table(at, "Matches")
    assert labels.set_index("Label")["Matches"].to_dict() == {"app": "✗", "tier": "✓"}
    at.text_input(key="ch09_labels").set_value("app loan").run()
    assert "is not of the form key=value" in _texts(at.error)


def test_generator_in_french_with_a_bad_quantity() -> None:
    at = open_app("fr", PAGE)
    at.text_input(key="ch09_cpu_request").set_value("beaucoup").run()
    assert_no_exception(at)
    assert "n'est pas une quantité Kubernetes" in _texts(at.error)


def test_broken_manifest_is_fixed_and_the_check_passes() -> None:
    at = open_app("fr", PAGE)
    assert at.text_area(key="ch09_broken_text").value == k8s.BROKEN_MANIFEST
    at.button(key="ch09_broken_validate").click().run()
    assert_no_exception(at)
    assert "6 erreur(s)" in _texts(at.error)
    assert records_for(get_settings(), get_settings().learner).get_text(k8s.MANIFEST_KEY) == k8s.BROKEN_MANIFEST
    assert Path(k8s.manifest_location(get_settings(), get_settings().learner)).is_file()
    fixed = (
        k8s.BROKEN_MANIFEST.replace('replicas: "2"', "replicas: 2")
        .replace("contianerPort", "containerPort")
        .replace("app: loan-model", "app: loan-api")
        .replace("targetPort: 8080", "targetPort: 8000")
        .replace("name: loan-api-deployment", "name: loan-api")
        .replace(
            "            - containerPort: 8000\n",
            "            - containerPort: 8000\n          resources:\n            requests:\n              cpu: 250m\n",
        )
    )
    at.text_area(key="ch09_broken_text").set_value(fixed).run()
    at.button(key="ch09_broken_validate").click().run()
    assert "3 ressources valides pour Kubernetes 1.37" in _texts(at.success)
    at.button(key="ch09_fix_broken_manifest_check").click().run()
    assert "Manifeste valide et cohérent" in _texts(at.success)
    at.button(key="ch09_broken_restart").click().run()
    assert at.text_area(key="ch09_broken_text").value == k8s.BROKEN_MANIFEST


def test_autoscaling_simulates_and_the_sizing_check_passes() -> None:
    at = open_app("en", PAGE)
    assert_no_exception(at)
    formula = next(m for m in at.metric if m.label == "Desired replicas")
    assert formula.value == "6"  # ceil(3 × 140 / 70)
    assert len(at.get("plotly_chart")) >= 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Worst p95 latency"] == "saturated"  # 10 pods of 40 req/s cannot serve a 400 req/s peak
    at.slider(key="ch09_sim_max").set_value(12).run()
    at.slider(key="ch09_sim_target").set_value(65).run()
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Worst p95 latency"] == "146\u00a0ms" and metrics["Most pods at once"] == "12"
    assert metrics["Cost of the day"].startswith("$")
    at.button(key="ch09_sizing_save").click().run()
    assert "Choice saved: 2 to 12 replicas, target 65 %." in _texts(at.success)
    at.button(key="ch09_size_hpa_check").click().run()
    assert "Well sized" in _texts(at.success)


def test_in_french_costs_and_hours_are_written_the_french_way_and_a_typed_replica_count_is_checked() -> None:
    at = open_app("fr", PAGE)
    metrics = {m.label: m.value for m in at.metric}
    cost = next(value for label, value in metrics.items() if "Coût" in label)
    assert cost.endswith("\u00a0$US") and "," in cost  # "3,16 $US", not "3.16 $"
    at.text_input(key="ch09_f_current").input("3,5").run()
    assert "« 3,5 » n'est pas un nombre entier." in _texts(at.error)
    at.text_input(key="ch09_f_current").input("4").run()
    assert next(m.value for m in at.metric if m.label == "Réplicas voulus") == "8"  # ceil(4 × 140 / 70)


def test_gke_tab_validates_the_project_manifests_and_explains_cloud_build() -> None:
    at = open_app("fr", PAGE)
    assert_no_exception(at)
    assert "Rien ici n'appelle Google Cloud" in _texts(at.info)
    assert "18 ressources dans 5 fichiers, toutes valides pour Kubernetes 1.37" in _texts(at.success)
    # gateway.yaml: valid, with the note that Gateway API kinds are CRDs kubernetes-validate has no schema for
    assert "Valide pour Kubernetes 1.37, avec 2 avertissement(s) à lire." in _texts(at.warning)
    assert "**HTTPRoute/workbench-app** — `HTTPRoute` (`gateway.networking.k8s.io/v1`) vient des CRD" in _texts(
        at.markdown
    )
    assert "gcloud container clusters create-auto mlops-cluster --region=europe-west1" in _texts(at.code)
    assert "cloud builder `kubectl`" in _texts(at.markdown)
    kinds = _table(at, "Type")
    assert "HorizontalPodAutoscaler" in set(kinds["Type"])
