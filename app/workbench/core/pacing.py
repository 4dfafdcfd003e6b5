"""Pacing: when a chapter counts as done, which earlier chapters to suggest before one (never a lock), and the
one-click preparation of what a chapter needs from an earlier one (a model at `@production`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.exercises import load_exercises
from workbench.core.settings import Settings

if TYPE_CHECKING:
    import pandas as pd


def chapter_done(chapter_key: str, completed: Set[str], lessons_dir: Path | None = None) -> bool:
    """True when every item that makes the chapter done (hands-on checks, checkpoint) is completed."""
    needed = set(load_exercises(chapter_key, lessons_dir).item_ids)
    return bool(needed) and needed <= set(completed)


def unfinished_prerequisites(
    prerequisites: tuple[str, ...], completed: Mapping[str, Set[str]], lessons_dir: Path | None = None
) -> tuple[str, ...]:
    """The prerequisite chapters (keys, in the order given) the learner has not finished yet."""
    return tuple(key for key in prerequisites if not chapter_done(key, completed.get(key, set()), lessons_dir))


# --------------------------------------------------------------------------------------------
# "Prepare what this chapter needs": a model of the learner at @production (chapters VII, VIII, X)
# --------------------------------------------------------------------------------------------

#: A chapter that lists this prerequisite serves the learner's model at `@production` (VII, VIII, X).
NEEDS_PRODUCTION_MODEL = "05_mlflow"
#: What the workbench trains when it prepares the production model: the course's default (model form's first).
PREPARED_MODEL_FAMILY = "logistic_regression"


@dataclass(frozen=True)
class ProductionNeed:
    """Whether the learner's registered model has a version at `@production` (the registry's real state)."""

    model: str
    version: int | None
    prepared: bool  # that version was prepared by the workbench, not registered by the learner

    @property
    def met(self) -> bool:
        """True when `models:/<model>@production` resolves."""
        return self.version is not None


@dataclass(frozen=True)
class PreparedModel:
    """What `prepare_production_model` did: the version at `@production`, and whether it made a new one."""

    model: str
    version: int
    alias: str
    run_id: str
    created: bool


def production_need(settings: Settings, learner: str) -> ProductionNeed:
    """The learner's `@production` version as the registry holds it now (not what chapter V's progress says)."""
    from workbench.core.tracking import get_version, resolve_alias
    from workbench.core.tracking.store import PREPARED_TAG, owned_model

    model = owned_model(settings, learner)
    version = resolve_alias("production", settings, learner=learner)
    prepared = version is not None and get_version(version, settings, learner=learner).tags.get(PREPARED_TAG) == "true"
    return ProductionNeed(model, version, prepared)


def prepare_production_model(
    settings: Settings,
    learner: str,
    data: pd.DataFrame,
    chapter_key: str,
    step: Callable[[str], None] = lambda _: None,
) -> PreparedModel:
    """Give the learner a model at `@production` if they have none: train the default pipeline on `data`, log it
    with its signature, register it under the learner's model name and point `production` at it.

    The run and the version are tagged `PREPARED_TAG`, so chapter V's checks and the capstone never count them
    as the learner's work. Does nothing when `production` already resolves (safe to click twice).

    Args:
        step: called with `train`, `log`, `register`, `alias` as each step starts (progress display).
    """
    from workbench.core.modeling import train_model
    from workbench.core.tracking import get_version, register_run_model, set_alias, set_version_tag
    from workbench.core.tracking.store import PREPARED_TAG, client, log_training_run

    need = production_need(settings, learner)
    if need.version is not None:
        run_id = get_version(need.version, settings, learner=learner).run_id
        return PreparedModel(need.model, need.version, "production", run_id, created=False)
    step("train")
    result = train_model(data, PREPARED_MODEL_FAMILY, None)
    step("log")
    logged = log_training_run(
        result, data, learner, chapter=chapter_key, run_name=f"{PREPARED_MODEL_FAMILY} (prepared)", settings=settings
    )
    client(settings).set_tag(logged.run_id, PREPARED_TAG, "true")
    step("register")
    version = register_run_model(
        logged.run_id,
        learner,
        "Prepared by the workbench (not the learner's work) / Préparé par l'atelier (pas le travail de l'apprenant)",
        settings,
    )
    set_version_tag(version.version, PREPARED_TAG, "true", settings, learner=learner)
    step("alias")
    set_alias("production", version.version, learner, settings)
    return PreparedModel(need.model, version.version, "production", logged.run_id, created=True)
