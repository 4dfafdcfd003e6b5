"""Learner records and hands-on checks of chapter V."""

from __future__ import annotations

import time
from typing import Any

from workbench.core.settings import Settings, get_settings
from workbench.core.tracking.registry import list_versions, production_history
from workbench.core.tracking.runs import equals_filter, search_runs
from workbench.core.tracking.store import PREPARED_TAG, TrackingError, check_run_owner, client, experiment_id

# --------------------------------------------------------------------------------------------
# Learner records and hands-on checks (chapter V)
# --------------------------------------------------------------------------------------------


COMPARISONS_KEY = "ch05_mlflow/comparisons.json"  # the runs a learner compared on the page


def record_comparison(settings: Settings, learner: str, run_ids: list[str]) -> None:
    """Remember that the learner compared these runs (for the exercise check)."""
    from workbench.core.records import records_for

    learner_records = records_for(settings, learner)
    records = learner_records.get_json(COMPARISONS_KEY, [])
    records = [*(records if isinstance(records, list) else []), {"run_ids": list(run_ids), "at": time.time()}][-50:]
    learner_records.put_json(COMPARISONS_KEY, records)


def _check(ok: bool, ctx, key: str, **values) -> Any:
    from workbench.core.exercises import failed, passed
    from workbench.core.i18n import translate

    text = translate(f"mlflow.{key}", ctx.lang, **values)
    return passed(text, evidence=values) if ok else failed(text, evidence=values)


BEST_TAG = "best"  # the run a learner marks as their best attempt (hands-on exercise of chapter V)
_NOT_SETTINGS = ("params.seed", "params.test_size")


def best_runs(learner: str, settings: Settings | None = None) -> list[str]:
    """The learner's runs tagged `best = true` (normally one)."""
    settings = settings or get_settings()
    runs = client(settings).search_runs(
        [experiment_id(settings)],
        filter_string=f"{equals_filter('tags.learner', learner)} and tags.{BEST_TAG} = 'true'",
    )
    return [r.info.run_id for r in runs if r.data.tags.get("learner") == learner]  # exact (LIKE lets look-alikes in)


def mark_best_run(run_id: str, learner: str, settings: Settings | None = None) -> None:
    """Tag one of the learner's runs `best = true`, and none of their other runs (`MlflowClient.set_tag`).

    Raises:
        TrackingError: the run does not exist or belongs to someone else.
    """
    settings = settings or get_settings()
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:  # MlflowException: unknown run
        raise TrackingError("run_not_found", run_id=run_id) from exc
    check_run_owner(run, learner, settings)
    if run.data.tags.get("learner") != learner:
        raise TrackingError("run_not_yours", run_id=run_id, learner=learner)
    for other in best_runs(learner, settings):
        if other != run_id:
            c.delete_tag(other, BEST_TAG)
    c.set_tag(run_id, BEST_TAG, "true")


def own_versions(settings: Settings, learner: str) -> set[int]:
    """The versions of the learner's registered model that are their work: registered by them, not prepared."""
    return {
        v.version
        for v in list_versions(settings, learner=learner)
        if v.tags.get("learner") == learner and v.tags.get(PREPARED_TAG) != "true"
    }


def check_run_with_f1(ctx, min_runs: int = 4):
    """Passed when the learner logged at least `min_runs` runs with different settings and tagged the one with
    the best test F1 among them (ties allowed): tracking is for finding the best attempt, not only keeping it."""
    runs = search_runs(learner=ctx.learner, settings=ctx.settings, include_prepared=False)
    if runs.empty:
        return _check(False, ctx, "check_no_runs")
    settings_cols = [c for c in runs.columns if c.startswith("params.") and c not in _NOT_SETTINGS]
    tried = len(runs[settings_cols].astype(str).drop_duplicates()) if settings_cols else len(runs)
    if tried < min_runs:
        return _check(False, ctx, "check_f1_more_runs", n=tried, need=min_runs)
    tagged = [r for r in best_runs(ctx.learner, ctx.settings) if r in set(runs["run_id"])]
    if not tagged:
        return _check(False, ctx, "check_f1_untagged", n=tried)
    f1 = runs.set_index("run_id")["metrics.f1"]
    mine, best = float(f1[tagged[0]]), float(f1.max())
    name = str(runs.set_index("run_id").loc[tagged[0], "run_name"])
    if mine < best - 1e-9:
        return _check(False, ctx, "check_f1_not_best", name=name, f1=mine, n=tried)
    return _check(True, ctx, "check_f1_ok", name=name, f1=mine, n=tried)


def check_compared_runs(ctx, min_runs: int = 3):
    """Passed when the learner compared at least `min_runs` existing runs at once on the page."""
    from workbench.core.records import records_for

    records = records_for(ctx.settings, ctx.learner).get_json(COMPARISONS_KEY, [])
    records = records if isinstance(records, list) else []
    existing = set(
        search_runs(
            learner=ctx.learner if ctx.settings.class_mode else None, settings=ctx.settings, include_prepared=False
        )["run_id"]
    )
    best = max((len(set(r["run_ids"]) & existing) for r in records), default=0)
    if best >= min_runs:
        return _check(True, ctx, "check_compared_ok", n=best)
    return _check(False, ctx, "check_compared_missing", n=best, need=min_runs)


def check_production_alias(ctx):
    """Passed when the learner registered a version and pointed `production` at one of theirs (a version the
    workbench prepared for them is not theirs)."""
    mine = own_versions(ctx.settings, ctx.learner)
    if not mine:
        return _check(False, ctx, "check_not_registered")
    promoted = [
        h
        for h in production_history(ctx.settings, learner=ctx.learner)
        if h.get("learner") == ctx.learner and h.get("action") == "promote" and h.get("version") in mine
    ]
    if not promoted:
        return _check(False, ctx, "check_not_promoted", versions=", ".join(map(str, sorted(mine))))
    return _check(True, ctx, "check_promoted_ok", version=promoted[-1]["version"])


def check_rolled_back(ctx):
    """Passed when the learner rolled `production` back from one of their versions to an earlier one of theirs
    (versions the workbench prepared do not count)."""
    mine = own_versions(ctx.settings, ctx.learner)
    rollbacks = [
        h
        for h in production_history(ctx.settings, learner=ctx.learner)
        if h.get("learner") == ctx.learner
        and h.get("action") == "rollback"
        and h.get("version") in mine
        and h.get("from") in mine
    ]
    if not rollbacks:
        return _check(False, ctx, "check_no_rollback")
    last = rollbacks[-1]
    return _check(True, ctx, "check_rollback_ok", version=last["version"], previous=last.get("from"))
