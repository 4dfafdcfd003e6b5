"""Chapter VII: what the learner did with the API (recorded per learner) and the hands-on checks."""

from __future__ import annotations

import time
from typing import Any

from workbench.core.api_client import EXAMPLE_APPLICATION, CallResult, validation_errors
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

#: Invalid requests a learner can send on purpose (chapter VII), each with the field it breaks.
INVALID_CASES: dict[str, dict[str, Any]] = {
    "case_category": {**EXAMPLE_APPLICATION, "Gender": "M"},
    "case_negative": {**EXAMPLE_APPLICATION, "ApplicantIncome": -2500},
    "case_text": {**EXAMPLE_APPLICATION, "LoanAmount": "one hundred"},
    "case_missing": {k: v for k, v in EXAMPLE_APPLICATION.items() if k != "Property_Area"},
    "case_extra": {**EXAMPLE_APPLICATION, "Applicant_Income": 4000},
    "case_nonfinite": {**EXAMPLE_APPLICATION, "ApplicantIncome": float("nan")},
    "case_infinite": {**EXAMPLE_APPLICATION, "LoanAmount": float("inf")},
}


RECORD_KEY = "ch07_web_apps_api/api_lab.json"  # what the learner did with the API


def load_record(settings: Settings, learner: str) -> dict[str, Any]:
    """Everything recorded for the learner's API exercises (empty dict if nothing)."""
    data = records_for(settings, learner).get_json(RECORD_KEY, {})
    return data if isinstance(data, dict) else {}


def _save(settings: Settings, learner: str, updates: dict[str, Any]) -> None:
    records_for(settings, learner).update_json(RECORD_KEY, updates)


def record_call(settings: Settings, learner: str, result: CallResult) -> None:
    """Remember the learner's last successful prediction or last 422 answer."""
    entry = {"status": result.status_code, "body": result.body, "at": time.time(), "url": result.url}
    if result.ok and isinstance(result.body, dict) and "prediction" in result.body:
        _save(settings, learner, {"prediction": entry})
    elif result.status_code == 422:
        fields = sorted({e["field"].split(".")[-1] for e in validation_errors(result)})
        _save(settings, learner, {"last_422": {**entry, "fields": fields}, "field_answer": None})


def record_field_answer(settings: Settings, learner: str, answer: str) -> None:
    """The learner's reading of which field the last 422 pointed at."""
    _save(settings, learner, {"field_answer": answer.strip()})


def record_load_test(settings: Settings, learner: str, p50: float, p95: float, p99: float, throughput: float) -> None:
    """The learner's last load test (percentiles in ms); clears the previous p95 answer."""
    _save(
        settings,
        learner,
        {
            "load_test": {"p50": p50, "p95": p95, "p99": p99, "throughput": throughput, "at": time.time()},
            "p95_answer": None,
        },
    )


def record_p95_answer(settings: Settings, learner: str, answer: float) -> None:
    """The learner's reading of the p95 latency."""
    _save(settings, learner, {"p95_answer": float(answer)})


def check_prediction(ctx: CheckContext) -> CheckResult:
    """Passed when the learner got a prediction from the API and the API still answers."""
    from workbench.core import api_client

    prediction = load_record(ctx.settings, ctx.learner).get("prediction")
    if not prediction:
        return failed(translate("api.check_no_call", ctx.lang))
    if not api_client.status(ctx.settings).healthy:
        return failed(translate("api.check_api_down", ctx.lang))
    body = prediction["body"]
    return passed(
        translate("api.check_prediction_ok", ctx.lang, label=body["label"], version=body["model_version"]),
        evidence=body,
    )


def check_read_422(ctx: CheckContext) -> CheckResult:
    """Passed when the learner triggered a 422 and named the field it pointed at."""
    record = load_record(ctx.settings, ctx.learner)
    last = record.get("last_422")
    if not last:
        return failed(translate("api.check_no_422", ctx.lang))
    answer = (record.get("field_answer") or "").strip()
    if not answer:
        return failed(translate("api.check_no_field_answer", ctx.lang))
    expected = last["fields"]
    if answer.casefold() not in {f.casefold() for f in expected}:
        return failed(translate("api.check_wrong_field", ctx.lang, expected=", ".join(expected), answer=answer))
    return passed(translate("api.check_422_ok", ctx.lang, field=answer))


def check_p95(ctx: CheckContext, tolerance: float = 0.1) -> CheckResult:
    """Passed when the learner's p95 reading is within `tolerance` (relative) of the measured one."""
    record = load_record(ctx.settings, ctx.learner)
    load = record.get("load_test")
    if not load:
        return failed(translate("api.check_no_load", ctx.lang))
    answer = record.get("p95_answer")
    if answer is None:
        return failed(translate("api.check_no_p95", ctx.lang))
    p95 = float(load["p95"])
    if abs(answer - p95) > max(tolerance * p95, 0.05):
        return failed(translate("api.check_p95_wrong", ctx.lang, answer=answer))
    return passed(translate("api.check_p95_ok", ctx.lang, p95=p95), score=p95)
