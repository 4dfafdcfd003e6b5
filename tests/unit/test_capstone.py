"""Capstone criteria across chapters: a batch answered by the API serving the learner's @production model
(a real API process and a real registry), and the JUnit report of a green pipeline."""

from __future__ import annotations

import subprocess
import sys

import pytest
from workbench.chapters import capstone
from workbench.core import api_client, services, tracking
from workbench.core.data import generate_loan_data
from workbench.core.exercises import CheckContext, load_exercises, run_check
from workbench.core.modeling import train_model
from workbench.core.records import records_for
from workbench.core.settings import get_settings

LEARNER = "test-learner"


def _check(item: str, lang: str = "en"):
    exercise = next(h for h in load_exercises("capstone").hands_on if h.id == item)
    return run_check(exercise, CheckContext(LEARNER, lang, get_settings()))


def _register(data, learner: str = LEARNER) -> int:
    result = train_model(data, "logistic_regression", {})
    logged = tracking.log_training_run(result, data, learner)
    return int(tracking.register_run_model(logged.run_id, learner).version)


def _batch(rows: int):
    content = generate_loan_data().head(rows).drop(columns=["Loan_Status"]).to_csv(index=False).encode()
    sent = api_client.predict_csv(content, "batch.csv", learner=LEARNER)
    capstone.record_batch_call(get_settings(), LEARNER, sent)
    return sent


def test_the_batch_criterion_fails_before_the_work_and_passes_with_the_production_version(
    mlflow_store, monkeypatch
) -> None:
    monkeypatch.setenv("WORKBENCH_API_PORT", str(services.free_port()))
    monkeypatch.setenv("WORKBENCH_API_POLL_SECONDS", "0.5")
    get_settings.cache_clear()
    settings, data = get_settings(), generate_loan_data()
    item = "capstone-api-batch"
    assert "send a batch of at least 20 rows" in _check(item).missing[0]
    try:
        assert api_client.start(settings).healthy
        fallback = _batch(30)  # no model registered yet: the API serves its fallback
        assert fallback.ok and fallback.body["model_version"] == "fallback"
        assert "No version of your model holds the `production` alias" in _check(item).missing[0]
        v1 = _register(data)
        tracking.set_alias("production", v1, LEARNER)
        stale = _check(item)  # the batch was answered by the fallback, not by version 1
        assert not stale.passed and f"but your `@production` is version {v1}" in stale.missing[0]
        assert api_client.call("POST", "/reload", learner=LEARNER).ok
        small = _batch(10)
        assert small.ok and str(small.body["model_version"]) == str(v1)
        assert "Your last batch had 10 rows" in _check(item).missing[0]
        _batch(25)
        result = _check(item, "fr")
        assert result.passed, result
        assert result.evidence == {"count": 25, "served": str(v1), "production": v1}
        v2 = _register(data)  # promoted after the batch: the batch no longer proves the criterion
        tracking.set_alias("production", v2, LEARNER)
        assert not _check(item).passed
        api_client.stop(settings)
        records_for(settings, LEARNER).update_json(capstone.BATCH_KEY, {"model_version": str(v2)})
        assert "does not answer now" in _check(item).missing[0]
    finally:
        api_client.stop(settings)


def test_a_refused_batch_is_not_recorded() -> None:
    class Refused:
        ok, status_code, url = False, 422, "http://127.0.0.1/predict/batch"
        body = {"detail": [{"loc": ["body", "file"], "msg": "missing"}]}

    capstone.record_batch_call(get_settings(), LEARNER, Refused())
    assert records_for(get_settings(), LEARNER).get_json(capstone.BATCH_KEY) is None


def _junit_xml(tmp_path, failing: bool) -> str:
    """A JUnit report written by a real pytest run."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "test_x.py").write_text(
        "def test_a():\n    assert True\n\ndef test_b():\n    assert " + ("False" if failing else "True") + "\n"
    )
    report = tmp_path / "junit.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(tmp_path / "test_x.py"),
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "junit_family=xunit2",
            f"--junitxml={report}",
        ],
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    return report.read_text()


def _history(*runs: dict) -> None:
    from workbench.chapters.ch08_cicd.delivery.state import HISTORY_KEY

    records_for(get_settings(), LEARNER).put_json(HISTORY_KEY, list(runs))


def test_the_junit_criterion_reads_the_green_pipeline_s_report(tmp_path) -> None:
    from workbench.chapters.ch08_cicd.delivery.state import junit_record_key

    item, records = "capstone-pipeline-junit", records_for(get_settings(), LEARNER)
    assert "None of your pipelines reached production" in _check(item).missing[0]
    _history({"number": 1, "outcome": "failed"}, {"number": 2, "outcome": "rejected"})
    assert "None of your pipelines reached production" in _check(item).missing[0]
    _history({"number": 1, "outcome": "failed"}, {"number": 3, "outcome": "production"})
    assert "Pipeline #3 kept no JUnit report" in _check(item).missing[0]
    records.put_text(junit_record_key(3), _junit_xml(tmp_path / "red", failing=True))
    red = _check(item)
    assert not red.passed and "2 tests, 1 failures and 0 errors" in red.missing[0]
    records.put_text(junit_record_key(3), "<html>not junit</html>")
    assert "cannot be read" in _check(item).missing[0]
    records.put_text(junit_record_key(3), '<testsuite tests="0" failures="0" errors="0"/>')
    assert not _check(item).passed  # no test at all is not green
    records.put_text(junit_record_key(3), _junit_xml(tmp_path / "green", failing=False))
    green = _check(item, "fr")
    assert green.passed, green
    assert green.evidence | {"skipped": 0} == {"pipeline": 3, "tests": 2, "failures": 0, "errors": 0, "skipped": 0}


@pytest.mark.parametrize(
    "xml, totals",
    [
        (
            '<testsuites><testsuite tests="3" failures="1" errors="0"/><testsuite tests="2" errors="1"/></testsuites>',
            {"tests": 5, "failures": 1, "errors": 1, "skipped": 0},
        ),
        ('<testsuite tests="4" skipped="1"/>', {"tests": 4, "failures": 0, "errors": 0, "skipped": 1}),
    ],
)
def test_junit_totals_add_up_every_suite(xml, totals) -> None:
    assert capstone.junit_totals(xml) == totals


def test_a_hostile_junit_report_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><testsuite tests="&b;"/>'
    with pytest.raises(ValueError):  # defusedxml refuses entities (a ValueError): no expansion, a message
        capstone.junit_totals(bomb)
