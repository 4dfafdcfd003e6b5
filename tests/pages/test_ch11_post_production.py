"""AppTest of chapter XI, tab by tab: security (with a real API process for the HTTP attacks, the
extraction, the rate limit and the size cap), A/B test, bandits, business value, and the hands-on checks."""

from __future__ import annotations

import re

import pytest
from streamlit.proto.Metric_pb2 import Metric
from workbench.chapters.ch11_post_production import ab_tests as experiments
from workbench.chapters.ch11_post_production import security
from workbench.core import api_client
from workbench.core.data import load_course_data
from workbench.core.i18n import translate
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings
from workbench.ui.chapters.ch11_post_production.security import _pct

from tests.conftest import free_port
from tests.pages.conftest import assert_no_exception, open_app

PAGE = "11_post_production"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _done() -> set[str]:
    return ProgressStore(get_settings().progress_db).completed_items(get_settings().learner).get(PAGE, set())


@pytest.fixture
def api_port(monkeypatch, mlflow_store) -> int:
    port = free_port()
    monkeypatch.setenv("WORKBENCH_API_PORT", str(port))
    get_settings.cache_clear()
    yield port
    api_client.stop(get_settings())


def test_security_attacks_defenses_and_the_flip_exercise() -> None:
    at = open_app("fr", PAGE, timeout=180)
    assert_no_exception(at)
    labels = [t.label for t in at.tabs]
    assert {"Sécurité", "Test A/B", "Bandits", "Valeur métier", "Évasion", "Défenses"} <= set(labels)
    at.slider(key="ch11_budget").set_value(20)
    at.button(key="ch11_wb_run").click().run()
    assert_no_exception(at)
    metrics = _metrics(at)
    expected = security.white_box_evasion(security.train_victim(load_course_data(), "logistic_regression"), eps=2.0)
    assert metrics["Exactitude sans attaque"] == _pct(expected.accuracy_clean)
    assert metrics["Sous attaque (dossiers valides)"] == _pct(expected.accuracy_valid)
    assert expected.accuracy_valid < expected.accuracy_clean
    dropped = next(m for m in at.metric if m.label == "Sous attaque (dossiers valides)")
    assert dropped.proto.delta.startswith("-") and dropped.proto.color == Metric.MetricColor.RED  # a drop is red
    assert re.fullmatch(r"-\d+,\d\u00a0pts", dropped.delta), dropped.delta  # a drop, in percentage points
    assert any("Credit_History" in set(d.value.iloc[:, 0]) for d in at.dataframe)

    at.button(key="ch11_api_run").click().run()
    assert "L'API ne répond pas" in _texts(at.warning)

    at.button(key="ch11_poison_run").click().run()  # both strategies: one bar, one "Terminé"
    texts = [bar.proto.text for bar in at.get("progress")]  # the lab's bar, the exercise and sidebar progress
    assert texts.count("Terminé") == 1 and not any(text.startswith("Empoisonnement") for text in texts)
    at.multiselect(key="ch11_poison_strategies").set_value(["targeted"]).run()
    at.button(key="ch11_poison_run").click().run()
    at.button(key="ch11_mia_run").click().run()
    at.button(key="ch11_loading_run").click().run()
    assert_no_exception(at)
    loading = at.table[0].value
    assert loading["Fichier témoin créé (MLflow / atelier)"].iloc[0] == "oui / non"
    assert loading["Chargeur de l'atelier"].tolist() == ["refusé", "refusé", "chargé"]
    assert loading["Pourquoi l'atelier refuse"].tolist()[:2] == [
        translate("model_safety.pickle_format", "fr", format="cloudpickle"),
        translate("model_safety.untrusted_types", "fr", types="posix.system"),
    ]
    at.button(key="ch11_def_run").click().run()
    assert_no_exception(at)
    metrics = _metrics(at)
    assert metrics["Chargement sûr des modèles"] == "0"
    curve = next(d.value for d in at.dataframe if "Étiquettes inversées" in d.value.columns)
    assert curve["Exactitude"].iloc[-1] < curve["Exactitude"].iloc[0] - 0.2
    assert {"Entraînement adverse", "Validation des entrées", "Ensemble de modèles"} <= set(metrics)
    mia = next(d.value for d in at.dataframe if "AUC de l'attaque (ART)" in d.value.columns)
    assert mia["AUC de l'attaque (ART)"].iloc[1] > mia["AUC de l'attaque (ART)"].iloc[0]
    assert len(at.get("plotly_chart")) >= 2

    # Hands-on: the learner flips the refused application through the form, then checks it.
    at.button(key="ch11_flip_decision_check").click().run()
    assert "Aucune retouche enregistrée" in _texts(at.markdown)
    start = security.flip_start_application(security.flip_victim(load_course_data()))
    assert (start["Property_Area"], start["Married"]) != ("Semiurban", "Yes")
    at.selectbox(key="ch11_flip_Property_Area").set_value("Semiurban").run()
    at.selectbox(key="ch11_flip_Married").set_value("Yes").run()
    at.button(key="ch11_flip_submit").click().run()
    assert "Décision changée" in _texts(at.success)
    at.button(key="ch11_flip_decision_check").click().run()
    assert_no_exception(at)
    assert "Décision changée par le modèle" in _texts(at.success)
    assert "flip-decision" in _done()


def test_http_attacks_extraction_rate_limit_and_dos_against_the_live_api(api_port) -> None:
    at = open_app("en", PAGE, timeout=180)
    at.slider(key="ch11_budget").set_value(15)
    at.button(key="ch11_api_start_evasion").click().run()
    assert_no_exception(at)
    assert f"The API answers at http://127.0.0.1:{api_port} (no rate limit)" in _texts(at.success)

    at.button(key="ch11_api_run").click().run()
    assert_no_exception(at)
    metrics = _metrics(at)
    assert metrics["Goal"] == "Get approved" and metrics["Reached"] == "yes" and int(metrics["Queries"]) > 10

    at.button(key="ch11_extract_run").click().run()  # 400 queries
    assert_no_exception(at)
    assert "400 answers obtained, 0 refused" in _texts(at.caption)
    unlimited = float(_metrics(at)["No limit"].rstrip("%"))
    assert unlimited > 75  # a regression tree on 400 answers: ~80 % of probabilities within 5 points

    at.text_input(key="ch11_rate").input("2")
    at.text_input(key="ch11_burst").input("5")
    at.button(key="ch11_restart_limited").click().run()
    assert_no_exception(at)
    assert "limited to 2 requests/s per client (burst 5)" in _texts(at.success)
    at.button(key="ch11_extract_run").click().run()
    assert_no_exception(at)
    counts = [
        tuple(map(int, m.groups()))
        for c in at.caption
        if (m := re.search(r"(\d+) answers obtained, (\d+) refused", c.value))
    ]
    assert counts[0] == (400, 0) and counts[1][1] > 300, counts  # ("380 refused" contains "0 refused": parse)
    assert float(_metrics(at)["With rate limit"].rstrip("%")) < unlimited - 30  # the copy stays rough
    figure = next(c for c in at.get("plotly_chart") if "Fidelity" in c.proto.spec)
    assert '"range":[0,1]' in figure.proto.spec.replace(" ", "")

    at.button(key="ch11_oversize").click().run()
    at.slider(key="ch11_burst_n").set_value(20)
    at.button(key="ch11_burst_run").click().run()
    assert_no_exception(at)
    texts = _texts(at.markdown)
    assert "answer **413** × 1" in texts and "**429** ×" in texts


def test_ab_tab_design_simulation_peeking_and_sample_size_check() -> None:
    at = open_app("en", PAGE, timeout=180)
    assert _metrics(at)["Size per arm"] == "3,211"
    at.text_input(key="ch11_ss_baseline").input("20")
    at.text_input(key="ch11_ss_mde").input("-3")
    at.selectbox(key="ch11_ss_power").set_value(0.9).run()
    assert _metrics(at)["Size per arm"] == "3,516"
    at.text_input(key="ch11_ss_answer").input("3516").run()
    at.button(key="ch11_ss_save").click().run()
    at.button(key="ch11_ab_sample_size_check").click().run()
    assert "Size per arm 3516: right" in _texts(at.success)

    at.select_slider(key="ch11_ab_n").set_value(2000)
    at.button(key="ch11_ab_run").click().run()
    assert_no_exception(at)
    assert "p-value" in _metrics(at) and "Difference B − A" in _metrics(at)
    assert any(
        code.value.startswith("import numpy as np\nfrom scipy.stats import chi2_contingency") for code in at.code
    )

    at.select_slider(key="ch11_peek_sims").set_value(500)
    at.button(key="ch11_peek_run").click().run()
    assert_no_exception(at)
    metrics = _metrics(at)
    once = float(metrics["False positives, one look at the end"].rstrip("%"))
    daily = float(metrics["False positives, one look a day"].rstrip("%"))
    assert once < 10 < daily


def test_bandit_answer_cannot_be_saved_before_the_simulation_runs() -> None:
    at = open_app("en", PAGE, timeout=180)
    at.radio(key="ch11_bandit_choice").set_value("thompson").run()
    assert at.button(key="ch11_bandit_save").disabled  # the answer is read on the simulation: run it first
    assert "First run the default simulation" in _texts(at.caption)
    at.slider(key="ch11_bandit_runs").set_value(2)
    at.select_slider(key="ch11_bandit_epsilon").set_value(0.2)  # not the exercise's simulation
    at.button(key="ch11_bandit_run").click().run()
    assert at.button(key="ch11_bandit_save").disabled


def test_bandits_tab_and_lowest_regret_check() -> None:
    at = open_app("fr", PAGE, timeout=180)
    at.slider(key="ch11_bandit_runs").set_value(3)
    at.button(key="ch11_bandit_run").click().run()
    assert_no_exception(at)
    texts = [bar.proto.text for bar in at.get("progress")]
    assert "Terminé" in texts and "Simulation…" not in texts  # the bar does not stay on "Simulation…"
    metrics = _metrics(at)
    regret = {
        name: float(metrics[name].replace("\u202f", "").replace(",", "."))
        for name in ("Répartition fixe (A/B)", "ε-greedy", "UCB1", "Thompson sampling")
    }
    assert min(regret, key=regret.get) == "Thompson sampling"
    at.segmented_control(key="ch11_share_strategy").set_value("ucb1").run()
    assert_no_exception(at)
    assert any(
        "Part du trafic de chaque bras" in c.proto.spec and "UCB1" in c.proto.spec for c in at.get("plotly_chart")
    )
    at.radio(key="ch11_bandit_choice").set_value("thompson").run()
    at.button(key="ch11_bandit_save").click().run()
    at.button(key="ch11_lowest_regret_check").click().run()
    assert_no_exception(at)
    assert "Bonne réponse : Thompson sampling" in _texts(at.success)


def test_business_tab_and_threshold_check() -> None:
    at = open_app("en", PAGE, timeout=180)
    assert "Click the button to train the models" in _texts(at.info)
    at.button(key="ch11_portfolio_run").click().run()
    assert_no_exception(at)
    assert "most accurate model" in _texts(at.success) + _texts(at.info)
    table = next(d.value for d in at.dataframe if "Accuracy at the most profitable threshold" in d.value.columns)
    assert len(table) == 4
    portfolio = experiments.build_portfolio(load_course_data(), ["logistic_regression"])
    curve = experiments.profit_curve(portfolio.probabilities["logistic_regression"], portfolio.repaid, 1, 4)
    best, profit = experiments.best_threshold(curve)
    # the answer of the exercise is shown nowhere: no threshold column, no threshold in the metric's help
    assert "Most profitable threshold" not in table.columns
    assert all(f"{best:.2f}" not in (m.proto.help or "") for m in at.metric)
    assert _metrics(at)["The model's highest profit"] == f"{profit:.0f}"
    at.select_slider(key="ch11_threshold").set_value(round(best, 2)).run()
    assert _metrics(at)[f"Profit at threshold {best:.2f}"] == f"{profit:.0f}"
    at.button(key="ch11_threshold_save").click().run()
    at.button(key="ch11_best_threshold_check").click().run()
    assert_no_exception(at)
    assert f"Threshold {best:.2f}: profit {profit:.0f}" in _texts(at.success)
    assert "best-threshold" in _done()


def test_your_turn_forms_defense_membership_and_epsilon_fail_on_defaults_then_pass() -> None:
    at = open_app("en", PAGE, timeout=240)
    at.button(key="ch11_defense_try").click().run()  # the form as it opens: the kNN filter
    assert_no_exception(at)
    assert "poisoned + defense" in _texts(at.info)
    at.button(key="ch11_defense_save").click().run()
    at.button(key="ch11_poison_defense_check").click().run()
    assert "points below the clean one" in _texts(at.markdown)
    # AppTest loses a segmented control's choice when the page formats its options (checked in Chromium
    # instead): the kNN filter's own settings go through the page, the trusted subset is saved as the page does
    at.select_slider(key="ch11_defense_agreement").set_value(0.3)
    at.button(key="ch11_defense_save").click().run()
    at.button(key="ch11_poison_defense_check").click().run()
    assert "points below the clean one" in _texts(at.markdown)  # a neighbours' vote cannot fix this attack
    settings = get_settings()
    security.save_defense(settings, settings.learner, {"method": "trusted", "trusted_share": 0.3, "confidence": 0.5})
    at.button(key="ch11_poison_defense_check").click().run()
    assert_no_exception(at)
    assert "Effective defense" in _texts(at.success)

    at.button(key="ch11_mia_save").click().run()  # the overfit start
    at.button(key="ch11_membership_defense_check").click().run()
    assert "The attack keeps an advantage" in _texts(at.markdown)
    at.slider(key="ch11_mia_max_iter").set_value(30)
    at.select_slider(key="ch11_mia_learning_rate").set_value(0.05)
    at.slider(key="ch11_mia_max_depth").set_value(3).run()
    at.button(key="ch11_mia_try").click().run()
    assert "Attack: AUC" in _texts(at.info)
    at.button(key="ch11_mia_save").click().run()
    at.button(key="ch11_membership_defense_check").click().run()
    assert_no_exception(at)
    assert "Safe settings" in _texts(at.success)

    ucb = experiments.simulate_bandits(epsilon=0.1, runs=20).final_regret["ucb1"]
    at.text_input(key="ch11_eps_ucb").input(f"{ucb:.1f}").run()
    at.button(key="ch11_eps_save").click().run()  # ε = 0.1, the form's default
    at.button(key="ch11_epsilon_vs_ucb_check").click().run()
    assert "not less than UCB1" in _texts(at.markdown)
    at.select_slider(key="ch11_eps_choice").set_value(0.03).run()
    at.button(key="ch11_eps_save").click().run()
    at.button(key="ch11_epsilon_vs_ucb_check").click().run()
    assert_no_exception(at)
    assert "ε-greedy loses" in _texts(at.success)
    assert {"poison-defense", "membership-defense", "epsilon-vs-ucb"} <= _done()
