"""Chapter VII's "prepare what this chapter needs": the learner's registry has no @production → one click → it has."""

from __future__ import annotations

import pytest
from workbench.core.pacing import production_need
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app, open_class_app

pytestmark = pytest.mark.usefixtures("mlflow_store")


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def test_class_learner_prepares_the_production_model_chapter_vii_needs(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    at = open_class_app("fr", "ana", "07_web_apps_api", timeout=120)
    assert_no_exception(at)
    model = get_settings().learner_model_name("ana")
    assert not production_need(get_settings(), "ana").met
    assert f"votre modèle à l'alias `@production`** (`{model}`)" in _texts(at.warning)
    button = at.button(key="ch07_prepare")
    assert button.label == "Préparer ce dont ce chapitre a besoin"
    button.click().run()
    assert_no_exception(at)
    need = production_need(get_settings(), "ana")
    assert need.met and need.prepared and need.version == 1
    assert f"Prêt : la version 1 de `{model}` est à l'alias `@production`." in _texts(at.success)
    assert not [b for b in at.button if b.key == "ch07_prepare"]  # the need is met: no button
    at.run()  # a rerun neither prepares again nor loses the result
    assert "Prêt : la version 1" in _texts(at.success)
    assert not production_need(get_settings(), "bob").met  # another learner's registry is untouched


def test_solo_chapter_x_in_english_offers_the_button_then_notes_the_prepared_model() -> None:
    at = open_app("en", "10_monitoring", timeout=120)
    assert_no_exception(at)
    assert at.button(key="ch10_prepare").label == "Prepare what this chapter needs"
    at.button(key="ch10_prepare").click().run()
    assert_no_exception(at)
    assert "Ready: version 1 of `loan-approval` is at the `@production` alias." in _texts(at.success)
    fresh = open_app("en", "08_cicd", timeout=120)  # another chapter, a new session: the registry says it is met
    assert not [b for b in fresh.button if b.key == "ch08_prepare"]
    assert "prepared by the workbench" in _texts(fresh.caption)
