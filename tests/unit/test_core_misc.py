"""Settings, chapters, lifecycle and the chapter-I checks."""

from __future__ import annotations

import os
import re

import pytest
from workbench.chapters import CHAPTERS, get_chapter, to_roman
from workbench.core.api_client import api_url
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings, learner_key, safe_name

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("WORKBENCH_API_PORT", "eighty", "WORKBENCH_API_PORT must be a whole number between 1 and 65535, got 'eighty'"),
        ("WORKBENCH_API_PORT", "70000", "WORKBENCH_API_PORT must be between 1 and 65535, got 70000"),
        ("WORKBENCH_API_MAX_BATCH", "0", "WORKBENCH_API_MAX_BATCH must be between 1 and 1000000, got 0"),
        ("WORKBENCH_MLFLOW_UI_PORT", "5000.5", "WORKBENCH_MLFLOW_UI_PORT must be a whole number"),
    ],
)
def test_a_bad_integer_setting_is_named_with_what_it_wants(monkeypatch, name, value, says) -> None:
    from workbench.core.settings import SettingsError

    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match=re.escape(says)):
        get_settings()


def test_raise_errors_is_a_setting(monkeypatch) -> None:
    assert get_settings().raise_errors  # tests/conftest.py sets WORKBENCH_RAISE_ERRORS=1
    monkeypatch.delenv("WORKBENCH_RAISE_ERRORS")
    get_settings.cache_clear()
    assert not get_settings().raise_errors


def test_settings_defaults_and_overrides(monkeypatch, isolated_state) -> None:
    settings = get_settings()
    assert settings.state_dir == isolated_state
    assert settings.lang == "fr"
    assert settings.mlflow_tracking_uri.startswith("sqlite:///")
    assert settings.model_name == "loan-approval"
    monkeypatch.setenv("WORKBENCH_LANG", "EN")
    monkeypatch.setenv("WORKBENCH_API_PORT", "8123")
    get_settings.cache_clear()
    assert get_settings().lang == "en" and api_url(get_settings()) == "http://127.0.0.1:8123"
    monkeypatch.setenv("WORKBENCH_LANG", "de")
    get_settings.cache_clear()
    assert get_settings().lang == "fr"


def test_default_state_dir_is_git_ignored() -> None:
    assert ".workbench/" in (REPO_ROOT / ".gitignore").read_text()


def test_safe_name_is_readable_but_not_one_to_one() -> None:
    assert safe_name("Zoé Martin/../x") == "Zoé_Martin_.._x"
    assert safe_name("bob!") == safe_name("bob?") == safe_name("bob_")  # why folders no longer use it


NAMES = [
    "bob!",
    "bob?",
    "bob_",
    "bob",
    "Bob",
    "..",
    ".",
    "...",
    "",
    " ",
    "learner",
    "O'Brien",
    "x\\",
    "x/",
    "a/../b",
    "Zoé Martin",
    "Zoe\u0301 Martin",
    "日本語",
    "-",
    "_",
    "x" * 60,
    "x" * 61,
]


def test_learner_folders_are_one_to_one_and_stay_inside_the_learners_folder() -> None:
    settings = get_settings()
    folders = [settings.learner_dir(name) for name in NAMES]
    assert len(set(folders)) == len(NAMES)
    root = settings.state_dir / "learners"
    for folder in folders:
        assert folder.parent == root and folder.resolve().parent == root.resolve()
        assert folder.name.isprintable() and "/" not in folder.name and not folder.name.startswith(".")
    assert learner_key("Zoé Martin").startswith("Zoé_Martin-")  # still readable by a teacher
    assert learner_key("bob!") == learner_key("bob!")  # stable: the same name finds its folder again


def test_chapters_cover_the_course() -> None:
    assert [c.number for c in CHAPTERS] == list(range(1, len(CHAPTERS) + 1))  # numbered 1..N, no gap
    assert len(CHAPTERS) >= 11  # the course's chapters I to XI at least
    for chapter in CHAPTERS:
        assert (REPO_ROOT / "pages" / f"{chapter.key}.py").is_file()
    assert get_chapter("mlflow").number == 5 and get_chapter(10).key == "10_monitoring"
    with pytest.raises(KeyError):
        get_chapter("nope")
    assert [to_roman(n) for n in (1, 4, 9, 11)] == ["I", "IV", "IX", "XI"]


def test_lifecycle_stages_and_figure() -> None:
    from workbench.chapters.ch03_deployment_challenges.lifecycle import lifecycle_figure, load_stages

    stages = load_stages()
    assert len(stages) == 8
    for stage in stages:
        for field in (stage.name, stage.summary, stage.roles, stage.mlops):
            assert field["fr"] and field["en"]
        assert stage.challenges["fr"] and len(stage.challenges["fr"]) == len(stage.challenges["en"])
        assert all(1 <= c <= len(CHAPTERS) for c in stage.chapters)
    fig = lifecycle_figure(stages, "en", selected="deployment")
    marker = fig.data[0]
    assert list(marker.customdata) == [s.id for s in stages]
    assert marker.marker.size[6] > marker.marker.size[0]


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext(learner="ana", lang=lang, settings=get_settings())


def test_first_model_checks_inspect_the_learner_history() -> None:
    from workbench.chapters.ch01_introduction import lab as intro
    from workbench.core.data import generate_loan_data
    from workbench.core.modeling import train_model

    assert not intro.check_first_model(_ctx()).passed
    assert "No model trained" in intro.check_first_model(_ctx()).missing[0]

    data = generate_loan_data()
    weak = train_model(data, "decision_tree", {"max_depth": 1})
    summary = intro.training_summary(weak)
    summary["metrics"]["accuracy"] = summary["baseline"]["accuracy"]  # exactly the baseline: not enough
    intro.record_first_model(get_settings(), "ana", summary)
    result = intro.check_first_model(_ctx("fr"))
    assert not result.passed and "sans dépasser" in result.missing[0]
    assert not intro.check_compare_models(_ctx()).passed

    good = train_model(data, "logistic_regression")
    intro.record_first_model(get_settings(), "ana", intro.training_summary(good))
    result = intro.check_first_model(_ctx())
    assert result.passed and result.score > 0 and "Decision tree (max_depth = 1" in result.detail
    compared = intro.check_compare_models(_ctx())
    assert compared.passed and "Decision tree" in compared.detail
    assert not intro.check_first_model(CheckContext("bob", "en", get_settings())).passed


def test_beating_the_baseline_with_the_defaults_is_only_half_the_exercise() -> None:
    """The first click (default logistic regression) beats the baseline: that alone must not pass."""
    from workbench.chapters.ch01_introduction import lab as intro
    from workbench.core.data import generate_loan_data
    from workbench.core.modeling import train_model

    data = generate_loan_data()
    default = train_model(data, "logistic_regression")
    assert default.metrics["accuracy"] > default.evaluation.baseline["accuracy"]
    intro.record_first_model(get_settings(), "ana", intro.training_summary(default))
    result = intro.check_first_model(_ctx())
    assert not result.passed and "does **not** beat it" in result.missing[0]
    # the real work: settings where the model learns nothing better than "approve everyone"
    useless = train_model(data, "logistic_regression", {"C": 0.001})
    assert useless.metrics["accuracy"] <= useless.evaluation.baseline["accuracy"]
    intro.record_first_model(get_settings(), "ana", intro.training_summary(useless))
    result = intro.check_first_model(_ctx())
    assert result.passed and "Logistic regression (C = 0.001)" in result.detail
    assert result.evidence["worst"]["params"] == {"C": 0.001}


def test_training_records_the_training_score_beside_the_test_score() -> None:
    from workbench.chapters.ch01_introduction import lab as intro
    from workbench.core.data import generate_loan_data
    from workbench.core.modeling import train_model

    forest = train_model(generate_loan_data(), "random_forest")
    summary = intro.training_summary(forest)
    assert set(summary["train_metrics"]) == set(summary["metrics"])
    assert summary["train_metrics"]["roc_auc"] > summary["metrics"]["roc_auc"] + 0.05  # a forest learns by heart


def test_history_file_tolerates_corruption() -> None:
    from workbench.chapters.ch01_introduction import lab as intro
    from workbench.core.records import records_for

    records_for(get_settings(), "ana").put_bytes(intro.HISTORY_KEY, b"{not json")
    assert intro.load_first_models(get_settings(), "ana") == []


@pytest.mark.parametrize("entry", ["workbench.core.settings:get_settings", "workbench.api:create_app"])
def test_mlflow_telemetry_is_off_in_workbench_processes(tmp_path, entry) -> None:
    """In a clean environment (not CI, not pytest, where MLflow turns it off itself), as a learner runs it."""
    import subprocess
    import sys

    module, function = entry.split(":")
    code = (
        f"from {module} import {function}; {function}(); import mlflow, os; "
        "from mlflow.telemetry.client import get_telemetry_client; "
        "print(get_telemetry_client() is None, os.environ['MLFLOW_DISABLE_TELEMETRY'], os.environ['DO_NOT_TRACK'])"
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "WORKBENCH_STATE_DIR": str(tmp_path / "state")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.split()[-3:] == ["True", "true", "true"], out.stderr[-2000:]
    env["DO_NOT_TRACK"] = "false"  # a user who says so explicitly keeps their choice
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.split()[-1] == "false", out.stderr[-2000:]
