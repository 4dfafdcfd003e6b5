"""AppTest of chapter XI's Responsible-AI tab, in both languages: review, fairness, mitigation, explanations,
model card, signing, and the two hands-on checks passed from the page's real state."""

from __future__ import annotations

import pytest
from workbench.chapters.ch11_post_production import responsible as rai
from workbench.core.data import load_course_data
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

PAGE = "11_post_production"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.mark.parametrize(
    "lang, tab, dp, signed, caught",
    [
        ("fr", "IA responsable", "Écart de parité démographique", "Signature vérifiée", "Copie modifiée refusée"),
        ("en", "Responsible AI", "Demographic-parity difference", "Signature verified", "Tampered copy refused"),
    ],
)
def test_responsible_ai_tab(mlflow_store, lang: str, tab: str, dp: str, signed: str, caught: str) -> None:
    at = open_app(lang, PAGE, timeout=180)
    assert_no_exception(at)
    assert tab in [t.label for t in at.tabs]
    at.button(key="ch11_rai_load").click().run()
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    expected = rai.review_fairness(rai.course_subject(load_course_data()), "Gender")
    sep = "," if lang == "fr" else "."
    assert metrics[dp] == f"{expected.dp_difference * 100:.1f}".replace(".", sep) + "\u00a0pts"

    at.selectbox(key="ch11_rai_attribute").set_value("Married").run()
    at.button(key="ch11_rai_mitigate").click().run()
    assert_no_exception(at)
    assert at.table, "the before/after cost table is shown"
    at.button(key="ch11_rai_importance_run").click().run()
    assert_no_exception(at)
    assert "Credit_History" in _texts(at.info) or at.dataframe  # the letter to the refused applicant
    at.button(key="ch11_rai_sign").click().run()
    assert_no_exception(at)
    assert signed in _texts(at.success) and caught in _texts(at.warning)
    assert "Annex III" in _texts(at.markdown) or "annexe III" in _texts(at.markdown)  # the card preview

    ctx = CheckContext(get_settings().learner, lang, get_settings())
    assert rai.check_signed_model(ctx).passed
    saved = rai.checks.load_choice(get_settings(), get_settings().learner)
    assert isinstance(saved, dict) and saved["attribute"] == "Married"
