"""Hands-on checks of the Responsible-AI tab, on real state: the learner's mitigation is replayed on the
model under review, and the signed model folder is verified with the learner's public key."""

from __future__ import annotations

import math

from workbench.chapters.ch11_post_production.responsible.fairness import ATTRIBUTES, CONSTRAINTS, mitigate
from workbench.chapters.ch11_post_production.responsible.signing import signing_paths, verify_folder
from workbench.chapters.ch11_post_production.responsible.subject import ResponsibleError, load_subject
from workbench.core import formatting as fmt
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

#: The learner's last mitigation choice (a record: the check replays it).
CHOICE_KEY = "ch11_post_production/fairness.json"


def load_choice(settings: Settings, learner: str) -> object:
    """The learner's last saved mitigation choice (None when there is none)."""
    return records_for(settings, learner).get_json(CHOICE_KEY)


def save_choice(settings: Settings, learner: str, attribute: str, constraint: str, exclude_missing: bool) -> None:
    """Remember the mitigation the learner ran (the check replays it)."""
    records_for(settings, learner).put_json(
        CHOICE_KEY,
        {"attribute": attribute, "constraint": constraint, "exclude_missing": bool(exclude_missing)},
    )


def _gap(report, constraint: str) -> float:
    return report.dp_difference if constraint == "demographic_parity" else report.eo_difference


def check_fairness_mitigation(ctx: CheckContext, min_reduction: float = 0.0) -> CheckResult:
    """Passed when the learner ran a mitigation and, replayed on the model under review, it narrows the gap
    its constraint targets (demographic parity or equal opportunity) by more than `min_reduction`."""
    from workbench.core.data import load_course_data

    saved = load_choice(ctx.settings, ctx.learner)
    if (
        not isinstance(saved, dict)
        or saved.get("attribute") not in ATTRIBUTES
        or saved.get("constraint") not in CONSTRAINTS
    ):
        return failed(translate("responsible.check_fair_none", ctx.lang))
    try:
        subject = load_subject(load_course_data(ctx.settings.data_path), ctx.settings, ctx.learner)
        result = mitigate(
            subject, saved["attribute"], saved["constraint"], exclude_missing=bool(saved.get("exclude_missing"))
        )
    except ResponsibleError as exc:
        return failed(exc.message(ctx.lang))
    before, after = _gap(result.before, result.constraint), _gap(result.after, result.constraint)
    evidence = {"attribute": saved["attribute"], "constraint": result.constraint, "before": before, "after": after}
    if math.isnan(before) or math.isnan(after) or before - after <= min_reduction:
        text = translate(
            "responsible.check_fair_not",
            ctx.lang,
            before=fmt.points(before, ctx.lang, sign=False),
            after=fmt.points(after, ctx.lang, sign=False),
        )
        return failed(text, evidence=evidence)
    text = translate(
        "responsible.check_fair_ok",
        ctx.lang,
        attribute=saved["attribute"],
        before=fmt.points(before, ctx.lang, sign=False),
        after=fmt.points(after, ctx.lang, sign=False),
        acc_before=fmt.percent(result.before.accuracy, ctx.lang),
        acc_after=fmt.percent(result.after.accuracy, ctx.lang),
    )
    return passed(text, evidence=evidence)


def check_signed_model(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's exported model folder verifies against its signature and public key."""
    paths = signing_paths(ctx.settings, ctx.learner)
    if not paths.signature.is_file() or not paths.model.is_dir():
        return failed(translate("responsible.check_sign_none", ctx.lang))
    verdict = verify_folder(paths.model, paths.public_key, paths.signature)
    if not verdict.ok:
        return failed(translate("responsible.check_sign_bad", ctx.lang, reason=verdict.reason))
    files = sum(1 for p in paths.model.rglob("*") if p.is_file())
    return passed(translate("responsible.check_sign_ok", ctx.lang, n=files), evidence={"files": files})
