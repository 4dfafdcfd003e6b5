"""Chapter VIII pipeline: real git, real build and pytest of the example package, real MLflow registry.

The expensive part (a real build, pytest runs, trainings) happens once in the module-scoped `scenario`
fixture, which runs four pipelines in its own state dir; the tests then assert on what each produced.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml
from workbench.chapters.ch04_packaging import lab as pk
from workbench.chapters.ch08_cicd import delivery as pl
from workbench.core import tracking
from workbench.core.exercises import CheckContext
from workbench.core.records import records_for
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT

LEARNER = "ana"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, _mlflow_template: Path) -> dict:
    """Four pipelines in one store: deployment to production, worse model, failing test, delivery."""
    state = tmp_path_factory.mktemp("cicd-state")
    shutil.copy(_mlflow_template, state / "mlflow.db")
    settings = dataclasses.replace(
        get_settings(), state_dir=state, mlflow_tracking_uri=f"sqlite:///{state / 'mlflow.db'}"
    )
    lines: list[str] = []
    first = pl.run_all(
        pl.new_pipeline(settings, LEARNER, pl.PipelineConfig(mode="deployment")), settings, on_line=lines.append
    )
    weak = pl.run_all(pl.new_pipeline(settings, LEARNER, pl.PipelineConfig(injection="weak_params")), settings)
    failing = pl.run_all(pl.new_pipeline(settings, LEARNER, pl.PipelineConfig(injection="failing_test")), settings)
    # another family; a margin of -0.02 tolerates a small loss: this pipeline checks the release logic, not the
    # models (on this data, as on the original, a decision tree would not pass the gate against production)
    delivery = pl.new_pipeline(
        settings, LEARNER, pl.PipelineConfig(mode="delivery", model_name="random_forest", margin=-0.02)
    )
    for name in ("commit", "build", "test"):  # already proven above: this one checks the release logic
        delivery.step(name).status = "passed"
    pl.run_all(delivery, settings)
    return {
        "settings": settings,
        "first": first,
        "weak": weak,
        "failing": failing,
        "delivery": delivery,
        "lines": lines,
    }


def _ctx(settings, learner: str = LEARNER, lang: str = "en") -> CheckContext:
    return CheckContext(learner, lang, settings)


# --------------------------------------------------------------------------------------------
# The real runs
# --------------------------------------------------------------------------------------------


def test_a_clean_pipeline_goes_all_the_way_to_production(scenario) -> None:
    run, settings = scenario["first"], scenario["settings"]
    assert [s.status for s in run.steps] == ["passed"] * 7
    assert run.outcome == "production" and run.finished is not None
    assert run.version == 1 and run.production_after == 1
    assert tracking.production_history(settings)[0] | {"at": 0} == {
        "action": "promote",
        "version": 1,
        "previous": None,
        "learner": LEARNER,
        "at": 0,
    }
    assert run.step("build").message[0] == "build_done"  # a real `python -m build` the first time
    assert Path(run.wheel).name == "loan_model-0.1.0-py3-none-any.whl"
    assert run.step("gate").message[0] == "gate_passed_first"  # nothing was in production yet
    assert "Continuous deployment" in run.step("production").text("en")
    assert any("Successfully built" in line for line in scenario["lines"])  # build output was streamed


def test_the_commit_is_a_real_git_commit_in_the_learners_repository(scenario) -> None:
    settings, run = scenario["settings"], scenario["first"]
    repo = pl.sandbox_dir(settings, LEARNER)
    log = pl.sandbox_log(settings, LEARNER)
    assert run.commit[:7] in log and "Import the loan-model package" in log
    assert len(run.commit) == 40
    assert "- pipeline #1: Retrain on the latest applications" in (repo / "CHANGELOG.md").read_text()
    assert repo.is_relative_to(settings.learner_dir(LEARNER))


def test_junit_report_of_the_real_pytest_run_is_parsed(scenario) -> None:
    report = scenario["first"].test_report
    assert report.ok and report.tests == 12
    cases = pk.parse_junit(Path(scenario["first"].junit_file))  # this run's artifact (later runs overwrite reports/)
    names = {c.name for c in cases}
    assert "test_prediction_is_y_or_n" in names and all(c.outcome == "passed" for c in cases)
    table = pk.junit_table(report, "fr")
    assert len(table) == 12


def test_each_pipeline_keeps_its_junit_report_as_a_record_for_the_capstone(scenario) -> None:
    from workbench.chapters.capstone import check_pipeline_junit, junit_totals

    settings, records = scenario["settings"], records_for(scenario["settings"], LEARNER)
    kept = records.get_text(pl.junit_record_key(scenario["first"].number))
    assert junit_totals(kept) == {"tests": 12, "failures": 0, "errors": 0, "skipped": 0}
    red = records.get_text(pl.junit_record_key(scenario["failing"].number))
    assert junit_totals(red)["failures"] == 1
    result = check_pipeline_junit(_ctx(settings))  # the latest run that reached production is the first one
    assert result.passed and result.evidence["pipeline"] == scenario["first"].number and result.evidence["tests"] == 12


def test_the_gate_stops_a_worse_model_and_production_stays(scenario) -> None:
    run, settings = scenario["weak"], scenario["settings"]
    assert run.failed_step == "gate" and run.outcome == "failed"
    assert run.step("build").message[0] == "build_cached"  # the wheel's inputs did not change
    assert [run.step(s).status for s in ("staging", "production")] == ["skipped", "skipped"]
    gate = run.gate
    assert gate.reason == "below_baseline" and gate.candidate == pytest.approx(gate.baseline)
    assert gate.production_version == 1 and gate.production is not None
    assert "Gate closed" in run.step("gate").text("en") and "Porte fermée" in gate.text("fr")
    assert run.version is None
    run_tags = tracking.client(settings).get_run(run.mlflow_run_id).data.tags
    assert run_tags["gate"] == "failed: below_baseline" and run_tags["injection"] == "weak_params"


def test_a_failing_test_stops_the_pipeline_at_the_test_step(scenario) -> None:
    run, settings = scenario["failing"], scenario["settings"]
    assert run.failed_step == "test"
    assert [s.status for s in run.steps][3:] == ["skipped"] * 4
    failed = [c for c in run.test_report.cases if c.outcome == "failed"]
    assert [c.name for c in failed] == ["test_an_application_without_income_is_refused"]
    assert "1 test out of 13 failed: test_an_application_without_income_is_refused" in run.step("test").text("en")
    assert (pl.sandbox_dir(settings, LEARNER) / pl.INJECTED_TEST).is_file()
    cases = pk.parse_junit(Path(run.junit_file))
    assert [c.message for c in cases if c.outcome == "failed"][0].startswith("Failed: DID NOT RAISE")


def test_continuous_delivery_waits_for_a_human(scenario) -> None:
    run, settings = scenario["delivery"], scenario["settings"]
    assert run.outcome == "waiting" and run.next_step is None
    assert run.step("production").status == "waiting"
    assert tracking.resolve_alias("staging", settings) == run.version
    assert tracking.resolve_alias("production", settings) != run.version
    assert pl.check_pipeline_reached_production(_ctx(settings)).passed  # pipeline #1 did reach it
    history = pl.load_history(settings, LEARNER)
    assert [h["outcome"] for h in history] == ["production", "failed", "failed", "waiting"]


def test_approve_moves_production_and_reject_does_not(scenario) -> None:
    run, settings = scenario["delivery"], scenario["settings"]
    copy = dataclasses.replace(run, steps=[dataclasses.replace(s) for s in run.steps])
    pl.reject(copy, settings)
    assert copy.outcome == "rejected" and tracking.resolve_alias("production", settings) == 1
    with pytest.raises(pl.PipelineError, match="not waiting"):
        pl.approve(copy, settings)
    pl.approve(run, settings)
    assert run.outcome == "production" and tracking.resolve_alias("production", settings) == run.version
    assert "Approved" in run.step("production").text("en")
    result = pl.check_pipeline_reached_production(_ctx(settings, lang="fr"))
    assert result.passed and result.evidence["version"] == run.version
    with pytest.raises(pl.PipelineError):
        pl.reject(run, settings)


def test_check_gate_rejected_worse_model(scenario) -> None:
    result = pl.check_gate_rejected_worse_model(_ctx(scenario["settings"]))
    assert result.passed and result.evidence["injection"] == "weak_params"
    assert "no better than the majority class" in result.detail


def test_generated_gate_script_exits_1_for_the_worse_model(scenario, capsys) -> None:
    settings, weak = scenario["settings"], scenario["weak"]
    code = pl.gate_code(settings, weak.model_uri, "accuracy", 0.0)
    with pytest.raises(SystemExit) as info:  # run in-process: `python gate.py` would exit with 1
        exec(compile(code, "gate.py", "exec"), {"__name__": "__main__"})
    assert info.value.code == "gate closed: the candidate does not beat the majority baseline"
    assert f"candidate={weak.gate.candidate:.4f}" in capsys.readouterr().out


def test_command_line_gate_and_promote(scenario, monkeypatch, capsys) -> None:
    settings = scenario["settings"]
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    get_settings.cache_clear()
    assert pl.main(["gate", "--run-id", scenario["weak"].mlflow_run_id]) == 1
    assert "gate: CLOSED (below_baseline)" in capsys.readouterr().out
    assert pl.main(["gate", "--run-id", scenario["first"].mlflow_run_id, "--register", "--learner", "ci"]) == 0
    out = capsys.readouterr().out
    assert "gate: OPEN" in out and "@staging -> version" in out
    staging = tracking.resolve_alias("staging", settings)
    assert pl.main(["promote", "--learner", "ci"]) == 0
    assert tracking.resolve_alias("production", settings) == staging
    assert pl.main(["gate", "--run-id", "nope"]) == 2


def test_tables_and_figure(scenario) -> None:
    weak = scenario["weak"]
    table = pl.steps_table(weak, "fr")
    assert list(table["Étape"]) == [
        "Commit",
        "Build",
        "Tests",
        "Entraînement",
        "Porte de qualité",
        "Staging",
        "Production",
    ]
    assert table["État"].tolist()[4] == "✗ échouée"
    history = pl.history_table(pl.load_history(scenario["settings"], LEARNER), "en")
    assert history["#"].tolist() == [4, 3, 2, 1]
    assert "Failed (Quality gate)" in set(history["Outcome"])
    fig = pl.pipeline_figure(weak, "en")
    assert list(fig.data[1].marker.color) == [pl.STATUS_COLORS[s.status] for s in weak.steps]
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0] == "<b>Commit</b>" and "<b>Quality gate</b>" in texts
    assert sum(text.endswith("\u00a0s") for text in texts) == 5  # durations of the five steps that ran
    french = [a.text for a in pl.pipeline_figure(weak, "fr").layout.annotations if a.text.endswith("\u00a0s")]
    assert len(french) == 5 and all("," in text and "." not in text for text in french)  # "1,2 s", not "1.2 s"


# --------------------------------------------------------------------------------------------
# Pure logic and error paths (no pipeline run)
# --------------------------------------------------------------------------------------------

SCORES = {"accuracy": 0.80, "f1": 0.87, "roc_auc": 0.70}


@pytest.mark.parametrize(
    "candidate, production, margin, reason",
    [
        (0.80, None, 0.0, "passed"),  # first model: only the baseline counts
        (0.68, None, 0.0, "below_baseline"),  # "always Y" is not a model
        (0.69, None, 0.0, "passed"),
        (0.79, 0.80, 0.0, "below_production"),
        (0.80, 0.80, 0.0, "passed"),  # as good as production, no margin asked
        (0.80, 0.80, 0.01, "below_production"),
        (0.82, 0.80, 0.01, "passed"),
        (0.79, 0.80, -0.02, "passed"),  # a negative margin tolerates a small loss
    ],
)
def test_decide_gate(candidate, production, margin, reason) -> None:
    decision = pl.decide_gate(
        {"accuracy": candidate},
        {"accuracy": 0.68},
        None if production is None else {"accuracy": production},
        "accuracy",
        margin,
        3,
    )
    assert decision.reason == reason and decision.passed == (reason == "passed")
    assert decision.text("en").startswith("Gate open" if decision.passed else "Gate closed")


def test_a_tie_with_production_passes_and_the_gate_says_why() -> None:
    """'0.787 ≥ 0.787 + 0.000': the learner is told a tie passes on purpose, and how to ask for better."""
    tie = pl.decide_gate({"accuracy": 0.787}, {"accuracy": 0.68}, {"accuracy": 0.787}, "accuracy", 0.0, 4)
    assert tie.passed and tie.message_key == "gate_passed_equal"
    assert "no regression" in tie.text("en") and "positive margin" in tie.text("en")
    assert "pas moins bon que la production" in tie.text("fr")
    assert "a tie: margin 0 asks for 'no worse than production'" in pl.gate_log(tie)
    better = pl.decide_gate({"accuracy": 0.80}, {"accuracy": 0.68}, {"accuracy": 0.787}, "accuracy", 0.0, 4)
    assert better.message_key == "gate_passed" and "a tie" not in pl.gate_log(better)
    strict = pl.decide_gate({"accuracy": 0.787}, {"accuracy": 0.68}, {"accuracy": 0.787}, "accuracy", 0.01, 4)
    assert not strict.passed and strict.reason == "below_production"


@pytest.mark.parametrize(
    "change, key",
    [
        ({"mode": "yolo"}, "error_mode"),
        ({"injection": "meteor"}, "error_injection"),
        ({"model_name": "svm"}, "error_model"),
        ({"metric": "log_loss"}, "error_metric"),
        ({"new_rows": 10_000}, "error_rows"),
        ({"margin": 2.0}, "error_margin"),
        ({"message": "   "}, "error_message"),
        ({"params": {"gamma": 1}}, "error_params"),
    ],
)
def test_invalid_configs_are_refused_with_a_message(change, key) -> None:
    with pytest.raises(pl.PipelineError) as info:
        pl.new_pipeline(get_settings(), LEARNER, pl.PipelineConfig(**change))
    assert info.value.key == key
    assert info.value.message("fr") and info.value.message("fr") != info.value.message("en")


def test_new_pipeline_cleans_params_and_message() -> None:
    run = pl.new_pipeline(
        get_settings(),
        LEARNER,
        pl.PipelineConfig(model_name="decision_tree", params={"max_depth": 99}, message="  fix   typo "),
    )
    assert run.number == 1 and run.config.params == {"max_depth": 20, "min_samples_leaf": 5}
    assert run.config.message == "fix typo" and run.next_step.name == "commit" and run.outcome == "running"


def test_training_data_adds_the_batch_and_flips_labels() -> None:
    settings = get_settings()
    clean = pl.training_data(settings, 1, 100)
    noisy = pl.training_data(settings, 1, 100, "noisy_labels")
    assert len(clean) == 614 + 100 and clean["Loan_ID"].is_unique
    flipped = (clean["Loan_Status"] != noisy["Loan_Status"]).mean()
    assert 0.35 < flipped < 0.45
    assert pl.training_data(settings, 2, 100)["Loan_ID"].iloc[-1] == "NB00200099"


def test_baseline_scores_always_the_majority_class() -> None:
    data = pl.evaluation_data()
    baseline = pl.baseline_scores(data)
    assert baseline["accuracy"] == pytest.approx((data["Loan_Status"] == "Y").mean())
    assert baseline["roc_auc"] == 0.5 and baseline["recall"] == 1.0


def test_approve_needs_a_waiting_pipeline() -> None:
    run = pl.new_pipeline(get_settings(), LEARNER, pl.PipelineConfig())
    with pytest.raises(pl.PipelineError) as info:
        pl.approve(run, get_settings())
    assert info.value.key == "error_not_waiting"


def test_a_step_error_becomes_a_failed_step_with_a_message() -> None:
    settings = get_settings()
    run = pl.new_pipeline(settings, LEARNER, pl.PipelineConfig())
    for name in ("commit", "build"):
        run.step(name).status = "passed"
    pl.run_next_step(run, settings)  # test: there is no wheel
    assert run.failed_step == "test" and "No wheel to test" in run.step("test").text("en")
    assert pl.load_history(settings, LEARNER)[-1]["failed_step"] == "test"


def test_checks_say_what_is_missing(mlflow_store) -> None:
    settings = get_settings()
    ctx = _ctx(settings, "bob", "fr")
    assert "Lancez un pipeline" in pl.check_gate_rejected_worse_model(ctx).missing[0]
    assert not pl.check_pipeline_reached_production(ctx).passed
    history = [
        {"id": "x", "number": 1, "injection": "noisy_labels", "failed_step": "test", "outcome": "failed"},
        {"id": "y", "number": 2, "injection": "none", "outcome": "waiting", "version": 4},
    ]
    records = records_for(settings, "bob")
    records.put_json(pl.HISTORY_KEY, history)
    assert "la porte de qualité ne l'a pas arrêté" in pl.check_gate_rejected_worse_model(ctx).missing[0]
    assert "attend votre approbation" in pl.check_pipeline_reached_production(ctx).missing[0]
    history[1]["outcome"] = "production"  # the history says so, but the registry has never heard of it
    records.put_json(pl.HISTORY_KEY, history)
    assert "aucune trace" in pl.check_pipeline_reached_production(ctx).missing[0]


def test_reset_sandbox_deletes_only_the_cicd_folders(tmp_path) -> None:
    settings = get_settings()
    assert pl.reset_sandbox(settings, LEARNER) is False
    lines = pl.ensure_sandbox(settings, LEARNER)
    assert any("Import the loan-model package" in line for line in lines)
    assert pl.ensure_sandbox(settings, LEARNER) == []  # already there
    records_for(settings, LEARNER).put_json(pl.HISTORY_KEY, [{"id": "kept"}])
    assert pl.reset_sandbox(settings, LEARNER) is True
    assert not pl.sandbox_dir(settings, LEARNER).exists() and pl.load_history(settings, LEARNER) == [{"id": "kept"}]


def test_apply_injection_adds_and_removes_the_failing_test(tmp_path) -> None:
    (tmp_path / "tests").mkdir()
    assert pl.apply_injection(tmp_path, "failing_test") == f"added {pl.INJECTED_TEST}"
    assert pl.apply_injection(tmp_path, "failing_test") is None
    assert pl.apply_injection(tmp_path, "none") == f"removed {pl.INJECTED_TEST}"
    assert not (tmp_path / pl.INJECTED_TEST).exists()


# --------------------------------------------------------------------------------------------
# The project's pipeline files
# --------------------------------------------------------------------------------------------


def _readme_test_command() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the tests", 1)[1]
    return section.split("```bash\n", 1)[1].split("\n```", 1)[0].strip()


def test_github_workflow_parses_and_runs_the_readme_test_command() -> None:
    text = (REPO_ROOT / pl.WORKFLOW).read_text(encoding="utf-8")
    workflow = pl.load_workflow(text)
    assert set(workflow["on"]) == {"push", "pull_request", "workflow_dispatch"}
    job = workflow["jobs"]["tests"]
    assert job["container"].startswith("python:3.11")
    steps = {s["id"]: s for s in job["steps"]}
    assert steps["checkout"]["uses"].startswith("actions/checkout@")
    assert "chromium" in steps["system"]["run"] and "git" in steps["system"]["run"]
    assert steps["tests"]["run"].strip() == _readme_test_command()
    assert steps["report"]["if"] == "always()"
    ci_run = (REPO_ROOT / pl.CI_RUN).read_text(encoding="utf-8")
    assert _readme_test_command() in ci_run and job["env"]["WORKBENCH_REQUIRE_BROWSER"] == "1"


def test_jenkinsfile_has_the_stages_and_publishes_junit() -> None:
    text = (REPO_ROOT / pl.JENKINSFILE).read_text(encoding="utf-8")
    assert pl.jenkins_stages(text) == ["Build image", "Test", "Train", "Deploy"]
    blocks = {b.key: b for b in pl.jenkinsfile_blocks(text, {})}
    assert "--junitxml=reports/junit.xml" in blocks["stage:Test"].code
    assert "junit 'reports/*.xml'" in blocks["post"].code and "always" in blocks["post"].code
    assert blocks["stage:Deploy"].code.startswith("stage('Deploy') {") and blocks["stage:Deploy"].code.endswith("}")
    assert "workbench.chapters.ch08_cicd.delivery gate" in blocks["stage:Train"].code
    assert text.count("{") == text.count("}")


def test_every_block_of_the_pipeline_files_is_explained() -> None:
    settings = get_settings()
    assert pl.missing_annotations(settings) == []
    notes = pl.annotations(settings)
    for section in ("github_actions", "jenkins"):
        for key, note in notes[section].items():
            assert note["fr"].strip() and note["en"].strip(), key
    workflow = pl.project_file_blocks(settings, pl.WORKFLOW)
    assert [b.key for b in workflow][-6:] == ["system", "checkout", "python", "pip-cache", "tests", "report"]
    assert yaml.safe_load(workflow[-2].code)[0]["run"] == _readme_test_command()


def test_workflow_blocks_with_unknown_steps_have_no_note() -> None:
    text = (
        "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - id: new\n        run: echo\n"
    )
    blocks = pl.workflow_blocks(text, {"name": {"fr": "n", "en": "n"}})
    assert [(b.key, b.note is None) for b in blocks] == [("name", False), ("on", True), ("job", True), ("new", True)]


def test_source_block_keeps_comments_and_stops_at_the_next_item() -> None:
    lines = ["steps:", "  - id: a", "    # why", "    run: |", "      echo 1", "", "  - id: b", "    run: x", "end: 1"]
    assert pl.source_block(lines, 1) == "- id: a\n  # why\n  run: |\n    echo 1"
    assert pl.source_block(lines, 6) == "- id: b\n  run: x"
    assert pl.source_block(lines, 0, stop_at=("- id: b",)) == "steps:\n  - id: a\n    # why\n    run: |\n      echo 1"


def test_read_project_file_refuses_other_files() -> None:
    with pytest.raises(KeyError):
        pl.read_project_file(get_settings(), "../secrets.txt")


def test_code_snippets_mention_what_was_done(scenario) -> None:
    settings, run = scenario["settings"], scenario["first"]
    assert "git commit -m 'Retrain on the latest applications'" in pl.commit_code(run)
    assert "python -m build" in pl.build_code(False) and "reuse" in pl.build_code(True)
    assert "--junitxml=reports/junit.xml" in pl.test_code()
    compile(pl.train_code(run, settings), "train", "exec")
    assert 'set_registered_model_alias("loan-approval", "production", 1)' in pl.promote_code(settings, "production", 1)
    assert "register_model" in pl.promote_code(settings, "staging", 1, run.model_uri)
    failing = scenario["failing"]
    assert pl.INJECTED_TEST in pl.commit_code(failing)
