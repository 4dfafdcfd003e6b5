"""Capstone criteria that span chapters (a module of the chapters package, not a chapter): a batch answered
by the API serving the learner's `@production` model (chapter VII), and a green pipeline run with its JUnit
report (chapter VIII).

Each reads the learner's records and the live state (registry, API) now, never the page.
"""

from __future__ import annotations

import time
from typing import Any

from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

BATCH_KEY = "capstone/batch_call.json"  # the learner's last batch answered by the API
MIN_BATCH_ROWS = 20


def record_batch_call(settings: Settings, learner: str, result: Any) -> None:
    """Remember a batch the API answered (an `api_client.CallResult` of POST /predict/batch): rows, version."""
    body = result.body
    if not (result.ok and isinstance(body, dict) and isinstance(body.get("predictions"), list)):
        return
    records_for(settings, learner).put_json(
        BATCH_KEY,
        {
            "at": time.time(),
            "count": int(body.get("count", len(body["predictions"]))),
            "model_version": str(body.get("model_version", "")),
            "url": result.url,
        },
    )


def check_batch_production(ctx: CheckContext, min_rows: int = MIN_BATCH_ROWS) -> CheckResult:
    """Passed when the API answered a batch of at least `min_rows` rows of the learner, with the version their
    `production` alias points to, and still serves that version now."""
    from workbench.core import api_client
    from workbench.core.tracking.registry import resolve_alias

    lang = ctx.lang
    call = records_for(ctx.settings, ctx.learner).get_json(BATCH_KEY, {})
    if not isinstance(call, dict) or not call.get("count"):
        return failed(translate("capstone.check_no_batch", lang, n=min_rows))
    evidence = {"count": call["count"], "served": call.get("model_version")}
    if int(call["count"]) < min_rows:
        return failed(translate("capstone.check_batch_small", lang, count=call["count"], n=min_rows), evidence=evidence)
    production = resolve_alias("production", ctx.settings, learner=ctx.learner)
    if production is None:
        return failed(translate("capstone.check_no_production", lang), evidence=evidence)
    evidence["production"] = production
    if str(call.get("model_version")) != str(production):
        return failed(
            translate("capstone.check_batch_version", lang, served=call.get("model_version"), version=production),
            evidence=evidence,
        )
    now = api_client.call("GET", "/model", settings=ctx.settings, timeout=10, learner=ctx.learner)
    if not now.ok or not isinstance(now.body, dict):
        return failed(translate("capstone.check_api_down", lang), evidence=evidence)
    if str(now.body.get("version")) != str(production):
        return failed(
            translate("capstone.check_batch_version", lang, served=now.body.get("version"), version=production),
            evidence=evidence,
        )
    return passed(
        translate("capstone.check_batch_ok", lang, count=call["count"], version=production), evidence=evidence
    )


def junit_totals(xml_text: str) -> dict[str, int]:
    """tests, failures, errors and skipped summed over the test suites of a JUnit XML report.

    Raises:
        ValueError: not a JUnit XML report.
    """
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from exc
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite") if root.tag == "testsuites" else []
    if not suites:
        raise ValueError(f"not a JUnit report (root element <{root.tag}>)")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for name in totals:
            try:
                totals[name] += int(suite.get(name, "0"))
            except ValueError as exc:
                raise ValueError(f"<testsuite {name}={suite.get(name)!r}>") from exc
    return totals


def check_pipeline_junit(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's latest green pipeline (it reached production) kept a JUnit XML report with
    tests > 0 and no failure or error."""
    from workbench.chapters.ch08_cicd.delivery.state import junit_record_key, load_history

    lang = ctx.lang
    green = [h for h in load_history(ctx.settings, ctx.learner) if h.get("outcome") == "production"]
    if not green:
        return failed(translate("capstone.check_no_green", lang))
    run = green[-1]
    xml_text = records_for(ctx.settings, ctx.learner).get_text(junit_record_key(int(run.get("number", 0))))
    evidence: dict[str, Any] = {"pipeline": run.get("number")}
    if not xml_text:
        return failed(translate("capstone.check_no_junit", lang, number=run.get("number")), evidence=evidence)
    try:
        totals = junit_totals(xml_text)
    except ValueError as exc:
        return failed(translate("capstone.check_bad_junit", lang, error=str(exc)[:200]), evidence=evidence)
    evidence.update(totals)
    if totals["tests"] <= 0 or totals["failures"] or totals["errors"]:
        return failed(
            translate("capstone.check_junit_red", lang, number=run.get("number"), **totals), evidence=evidence
        )
    return passed(translate("capstone.check_junit_ok", lang, number=run.get("number"), **totals), evidence=evidence)
