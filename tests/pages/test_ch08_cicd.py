"""AppTest of chapter VIII, tab by tab: a real pipeline (git, build, pytest, MLflow), history, CI files.

The wheel is built for real once per module; each test then starts with that build in its learner's
build cache (keyed by the git hashes of the package's files), as a CI server's cache would.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from workbench.chapters.ch04_packaging import lab as pk
from workbench.chapters.ch08_cicd import delivery as pl
from workbench.core import tracking
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

pytestmark = pytest.mark.usefixtures("mlflow_store")
PAGE = "08_cicd"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real build of the example package and the build-cache key of its files."""
    state = tmp_path_factory.mktemp("cicd-build")
    settings = dataclasses.replace(get_settings(), state_dir=state)
    pl.ensure_sandbox(settings, "builder")
    key = pl.build_inputs_key(pl.sandbox_dir(settings, "builder"))
    result = pk.build_package(state / "build", pl.sandbox_dir(settings, "builder"))
    assert result.ok, result.log[-2000:]
    return {"key": key, "wheel": result.wheel}


@pytest.fixture
def cached_build(built) -> None:
    """Put the module's wheel in this test learner's build cache."""
    settings = get_settings()
    dest = pl.build_dir(settings, settings.learner)
    (dest / "dist").mkdir(parents=True)
    wheel = dest / "dist" / built["wheel"].name
    shutil.copy(built["wheel"], wheel)
    (dest / "cache.json").write_text(json.dumps({"key": built["key"], "wheel": str(wheel), "commit": "0" * 40}))


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _table(at, column: str):
    """The first dataframe of the page that has `column` (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.usefixtures("cached_build")
def test_delivery_pipeline_waits_for_approval_then_reaches_production() -> None:
    at = open_app("en", PAGE, timeout=240)
    assert_no_exception(at)
    assert "No pipeline yet" in _texts(at.info)
    at.button(key="ch08_start").click().run()
    assert "Pipeline #1 · Continuous delivery · failure: None" in _texts(at.subheader)
    at.button(key="ch08_next").click().run()  # the commit, alone
    assert_no_exception(at)
    steps = _table(at, "Status")
    assert steps["Status"].tolist()[:2] == ["✓ passed", "○ pending"]
    at.button(key="ch08_run_all").click().run()
    assert_no_exception(at)
    assert "Version 1 is in `@staging`" in _texts(at.warning)
    assert at.button(key="ch08_approve").disabled is False
    junit = _table(at, "Outcome")
    assert len(junit) == 12 and set(junit["Outcome"]) == {"passed"}
    assert "Gate open: nothing is in production yet" in _texts(at.markdown)
    at.button(key="ch08_approve").click().run()
    assert_no_exception(at)
    assert "In production: `@production` points to version 1" in _texts(at.success)
    assert tracking.aliases() == {"staging": 1, "production": 1}
    at.button(key="ch08_pipeline_to_production_check").click().run()
    assert "Pipeline #1 reached production" in _texts(at.success)
    history = _table(at, "Injected failure")
    assert history["Outcome"].tolist() == ["In production"]


@pytest.mark.usefixtures("cached_build")
def test_a_failing_test_stops_the_pipeline_in_french() -> None:
    at = open_app("fr", PAGE, timeout=240)
    at.selectbox(key="ch08_injection").set_value("failing_test").run()
    assert "test_injected_regression.py" in _texts(at.caption)
    at.button(key="ch08_start").click().run()
    at.button(key="ch08_run_all").click().run()
    assert_no_exception(at)
    assert "Le pipeline s'est arrêté à l'étape « Tests »" in _texts(at.error)
    assert "test_an_application_without_income_is_refused" in _texts(at.error)
    assert "Cache de build" in _texts(at.markdown)  # the wheel was reused, the tests were not
    assert tracking.aliases() == {}  # nothing was registered
    assert at.button(key="ch08_next").disabled
    history = _table(at, "Panne injectée")
    assert history["Issue"].tolist() == ["Échec (Tests)"]
    at.button(key="ch08_gate_rejects_worse_model_check").click().run()
    assert "Lancez un pipeline avec une panne" in _texts(at.markdown)


def test_history_tab_shows_the_registry_and_resets_the_repository() -> None:
    settings = get_settings()
    pl.ensure_sandbox(settings, settings.learner)
    at = open_app("en", PAGE)
    assert "No pipeline yet: start one" in _texts(at.info)
    assert "Import the loan-model package" in _texts(at.code)
    assert [m.value for m in at.metric if m.label.startswith("@")] == ["—", "—"]
    at.checkbox(key="ch08_repo_reset_confirm").check().run()
    at.button(key="ch08_repo_reset").click().run()
    assert_no_exception(at)
    assert "Repository and builds deleted" in _texts(at.success)
    assert not pl.sandbox_dir(settings, settings.learner).exists()


def test_files_tab_explains_the_workflow_the_jenkinsfile_and_ci_run() -> None:
    at = open_app("fr", PAGE)
    assert any("python -m pytest" in c.value for c in at.code)
    assert "Exactement la commande de la section « Run the tests » du README" in _texts(at.markdown)
    at.radio(key="ch08_file").set_value(pl.JENKINSFILE).run()
    assert_no_exception(at)
    assert "Étapes (stages) : Build image → Test → Train → Deploy" in _texts(at.caption)
    assert "junit 'reports/*.xml'" in _texts(at.code)
    at.radio(key="ch08_file").set_value(pl.CI_RUN).run()
    assert "point d'entrée de CI du projet" in _texts(at.markdown)
    assert any(Path(".ci/run").name in c.value or "pip install -r requirements-dev.txt" in c.value for c in at.code)


def test_a_bad_setting_is_a_message_not_a_traceback() -> None:
    at = open_app("en", PAGE)
    at.text_input(key="ch08_message").set_value("   ").run()
    at.button(key="ch08_start").click().run()
    assert_no_exception(at)
    assert "The commit message is empty." in _texts(at.error)
