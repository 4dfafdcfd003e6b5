"""Hands-on checks of chapter VIII."""

from __future__ import annotations

from workbench.chapters.ch08_cicd.delivery.state import WORSE_MODEL_INJECTIONS, load_history
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate

# --------------------------------------------------------------------------------------------
# Hands-on checks
# --------------------------------------------------------------------------------------------


def _result(ok: bool, ctx: CheckContext, key: str, evidence: dict | None = None, **values: object) -> CheckResult:
    text = translate(f"cicd.{key}", ctx.lang, **values)
    return passed(text, evidence=evidence) if ok else failed(text, evidence=evidence)


def check_gate_rejected_worse_model(ctx: CheckContext) -> CheckResult:
    """Passed when one of the learner's pipelines with an injected worse model stopped at the gate."""
    history = load_history(ctx.settings, ctx.learner)
    injected = [h for h in history if h.get("injection") in WORSE_MODEL_INJECTIONS]
    if not injected:
        return _result(False, ctx, "check_no_worse_model")
    stopped = [h for h in injected if h.get("failed_step") == "gate"]
    if not stopped:
        where = injected[-1].get("failed_step") or injected[-1].get("outcome")
        return _result(False, ctx, "check_worse_not_stopped", {"runs": len(injected)}, n=len(injected), where=where)
    last = stopped[-1]
    gate = last.get("gate") or {}
    evidence = {"number": last.get("number"), "injection": last.get("injection"), **gate}
    return _result(
        True,
        ctx,
        "check_gate_rejected",
        evidence,
        number=last.get("number"),
        candidate=gate.get("candidate", 0.0),
        reason=translate(f"cicd.reason_{gate.get('reason', 'below_baseline')}", ctx.lang),
    )


def check_pipeline_reached_production(ctx: CheckContext) -> CheckResult:
    """Passed when a pipeline of the learner reached production and the registry agrees.

    The registry must show that `production` was moved to the version that pipeline created, by this
    learner (it may have moved on since).
    """
    from workbench.core import tracking

    history = load_history(ctx.settings, ctx.learner)
    reached = [h for h in history if h.get("outcome") == "production" and h.get("version") is not None]
    if not reached:
        waiting = [h for h in history if h.get("outcome") == "waiting"]
        key = "check_waiting_approval" if waiting else "check_no_production"
        return _result(False, ctx, key, n=waiting[-1].get("number") if waiting else 0)
    current = tracking.resolve_alias("production", ctx.settings, learner=ctx.learner)
    moves = {
        (h.get("version"), h.get("learner"))
        for h in tracking.production_history(ctx.settings, learner=ctx.learner)
        if h.get("action") == "promote"
    }
    for entry in reversed(reached):
        version = entry["version"]
        if current == version or (version, ctx.learner) in moves:
            evidence = {"number": entry.get("number"), "version": version, "current": current}
            key = "check_production_ok" if current == version else "check_production_was"
            return _result(True, ctx, key, evidence, number=entry.get("number"), version=version, current=current)
    return _result(False, ctx, "check_registry_disagrees", version=reached[-1]["version"])
