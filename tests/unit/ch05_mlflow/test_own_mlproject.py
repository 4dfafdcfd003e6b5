"""Chapter V work-based check: the learner's own MLproject, loaded by MLflow and run for real (`mlflow run`)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from workbench.chapters.ch05_mlflow import own_mlproject
from workbench.chapters.ch05_mlflow.own_mlproject import TEMPLATE, check_own_mlproject, save_text, structure_problems
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

pytestmark = [pytest.mark.usefixtures("mlflow_store"), pytest.mark.slow]

GOOD = """name: my-loan-project
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      max_depth: {type: float, default: 4}
      min_samples_leaf: {type: float, default: 5}
      learner: {type: string, default: me}
    command: >-
      python -m workbench.core.train --model decision_tree --max-depth {max_depth}
      --min-samples-leaf {min_samples_leaf} --learner {learner}
"""

#: Parameters declared and "used" (an echo), but the script gets a hard-coded leaf size.
HARD_CODED = GOOD.replace(
    "python -m workbench.core.train", "echo {min_samples_leaf} && python -m workbench.core.train"
).replace("--min-samples-leaf {min_samples_leaf}", "--min-samples-leaf 5")


def _ctx(learner: str = "ana", lang: str = "en") -> CheckContext:
    return CheckContext(learner, lang, get_settings())


def _check(text: str, learner: str = "ana", lang: str = "en"):
    save_text(get_settings(), learner, text)
    return check_own_mlproject(_ctx(learner, lang))


def test_nothing_saved_and_the_skeleton_fail_naming_what_is_missing() -> None:
    assert not check_own_mlproject(_ctx()).passed
    result = _check(TEMPLATE)
    assert not result.passed
    assert any("no `parameters` block" in m for m in result.missing), result.missing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: [unclosed", "not valid YAML (line"),
        (GOOD.replace("name: my-loan-project\n", ""), "has no name"),
        (GOOD.replace("python_env: python_env.yaml", "docker_env: {image: python}"), "`python_env: python_env.yaml`"),
        (GOOD.replace("  main:", "  train:"), "`main` entry point is missing"),
        (GOOD.replace("{type: float, default: 4}", "{default: 4}"), "no `type`: max_depth"),
        (GOOD.replace("{type: float, default: 4}", "{type: integer, default: 4}"), "max_depth (integer)"),
        (GOOD.replace("{type: float, default: 4}", "{type: float}"), "no `default` value: max_depth"),
        (GOOD.replace("--max-depth {max_depth}", "--max-depth 4"), "does not use these parameters: {max_depth}"),
        (GOOD.replace("{learner}", "{learner} {oops}"), "The command uses {oops}, which are not declared"),
        (GOOD.replace("{learner}", "{learner} {"), "MLflow refuses to read your MLproject: Single '{'"),
    ],
    ids=["yaml", "name", "environment", "main", "type", "bad-type", "default", "unused", "undeclared", "mlflow-loader"],
)
def test_structure_errors_are_named(tmp_path, text: str, expected: str) -> None:
    (tmp_path / "python_env.yaml").write_text("python: '3.11'\n")
    (tmp_path / "MLproject").write_text(GOOD)
    assert structure_problems(GOOD, tmp_path, "en") == []
    (tmp_path / "MLproject").write_text(text)
    problems = structure_problems(text, tmp_path, "en")
    assert any(expected in p for p in problems), problems


def test_a_hard_coded_value_fails_on_the_real_run() -> None:
    result = _check(HARD_CODED)
    assert not result.passed
    assert result.missing == (
        "Parameter `min_samples_leaf` given with `-P min_samples_leaf=4` was ignored: the training script used "
        "`min_samples_leaf = 5`. Does the command hard-code a value instead of `{min_samples_leaf}`?",
    )
    # a parameter the chosen family never uses: `mlflow run` logs it, the script does not
    result = _check(GOOD.replace("--model decision_tree", "--model logistic_regression"))
    assert not result.passed
    assert any(
        "`decision_tree`" not in m and "`logistic_regression` model family does not use it" in m for m in result.missing
    )


def _walkthrough_mlproject() -> str:
    """The MLproject the exercise's walkthrough gives (it must pass, as written)."""
    from workbench.core.exercises import load_exercises

    entry = next(h for h in load_exercises("05_mlflow").hands_on if h.id == "own-mlproject")
    return re.search(r"```yaml\n(.*?)```", entry.solution["en"], re.S).group(1)


def test_the_walkthrough_mlproject_passes_with_non_default_values_logged_and_tagged() -> None:
    from mlflow import MlflowClient

    result = _check(_walkthrough_mlproject(), lang="fr")
    assert result.passed, result.missing
    run = MlflowClient(get_settings().mlflow_tracking_uri).get_run(result.evidence["run_id"])
    assert run.data.params["max_depth"] == "5" and run.data.params["min_samples_leaf"] == "4"
    assert run.data.tags["learner"] == "ana"
    assert "-P max_depth=5" in result.detail
    # without a `learner` parameter the run is not the learner's
    untagged = GOOD.replace("      learner: {type: string, default: me}\n", "").replace(" --learner {learner}", "")
    result = _check(untagged)
    assert not result.passed and "tagged `learner = mlproject`" in result.missing[0]


def test_refused_in_class_mode_without_running_anything(monkeypatch) -> None:
    ctx = dataclasses.replace(_ctx(), settings=dataclasses.replace(get_settings(), mode="class"))
    monkeypatch.setattr(own_mlproject, "stream_run", lambda *a, **k: pytest.fail("ran learner code in class"))
    result = own_mlproject.try_project(ctx, GOOD)[0]
    assert not result.passed and "does not run your code" in result.missing[0]
