"""Chapter I: the learner's first models (trained in one click) and the checks of its exercises."""

from __future__ import annotations

import time

from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

HISTORY_KEY = "ch01_introduction/first_models.json"  # the learner's chapter-I trainings
MAX_HISTORY = 200


def load_first_models(settings: Settings, learner: str) -> list[dict]:
    """The learner's recorded trainings, oldest first (empty if none or unreadable)."""
    data = records_for(settings, learner).get_json(HISTORY_KEY, [])
    return data if isinstance(data, list) else []


def record_first_model(settings: Settings, learner: str, summary: dict) -> list[dict]:
    """Append a training summary (model, params, metrics, baseline) to the learner's history.

    The record is replaced atomically, so a crash never leaves it half-written.
    """
    history = load_first_models(settings, learner)
    history.append({**summary, "at": time.time()})
    history = history[-MAX_HISTORY:]
    records_for(settings, learner).put_json(HISTORY_KEY, history)
    return history


def training_summary(result) -> dict:
    """The JSON-friendly part of a `modeling.TrainResult` worth keeping."""
    return {
        "model": result.model_name,
        "params": result.params,
        "metrics": result.evaluation.metrics,
        "train_metrics": result.train_metrics,
        "baseline": result.evaluation.baseline,
        "n_train": result.n_train,
        "n_test": result.evaluation.n_test,
        "train_seconds": result.train_seconds,
    }


def _edge(entry: dict) -> float:
    return entry["metrics"]["accuracy"] - entry["baseline"]["accuracy"]


def _described(entry: dict, lang: str) -> str:
    params = ", ".join(f"{k} = {v:g}" for k, v in (entry.get("params") or {}).items())
    return translate(f"model.name_{entry['model']}", lang) + (f" ({params})" if params else "")


def check_first_model(ctx: CheckContext) -> CheckResult:
    """Passed when the learner trained a model that beats the majority-class baseline on the test data
    *and* found settings where a model does not: a score only means something next to its baseline."""
    history = load_first_models(ctx.settings, ctx.learner)
    if not history:
        return failed(translate("intro.check_no_model", ctx.lang))
    best, worst = max(history, key=_edge), min(history, key=_edge)
    acc, base = best["metrics"]["accuracy"], best["baseline"]["accuracy"]
    evidence = {
        "model": best["model"],
        "accuracy": acc,
        "baseline": base,
        "worst": {"model": worst["model"], "params": worst.get("params"), "accuracy": worst["metrics"]["accuracy"]},
    }
    if acc <= base:
        message = translate("intro.check_not_beaten", ctx.lang, accuracy=acc, baseline=base)
        return failed(message, evidence=evidence)
    if _edge(worst) > 0:
        message = translate("intro.check_need_loser", ctx.lang, n=len(history), accuracy=acc, baseline=base)
        return failed(message, evidence=evidence)
    detail = translate(
        "intro.check_beats",
        ctx.lang,
        accuracy=acc,
        baseline=base,
        loser=_described(worst, ctx.lang),
        loser_accuracy=worst["metrics"]["accuracy"],
    )
    return passed(detail, score=acc - base, evidence=evidence)


def check_compare_models(ctx: CheckContext, min_families: int = 2) -> CheckResult:
    """Passed when the learner trained at least `min_families` different model families."""
    families = sorted({h["model"] for h in load_first_models(ctx.settings, ctx.learner)})
    evidence = {"families": families}
    if len(families) >= min_families:
        names = ", ".join(translate(f"model.name_{f}", ctx.lang) for f in families)
        return passed(translate("intro.check_compared", ctx.lang, names=names), evidence=evidence)
    missing = translate("intro.check_more_families", ctx.lang, n=min_families - len(families), need=min_families)
    return failed(missing, evidence=evidence)
