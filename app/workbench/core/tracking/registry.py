"""The model registry: versions, aliases, promotion, rollback, history."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import pandas as pd

from workbench.core.data import FEATURES
from workbench.core.settings import Settings, get_settings
from workbench.core.tracking.runs import equals_filter
from workbench.core.tracking.store import (
    ALIASES,
    HISTORY_ENTRY_PREFIX,
    HISTORY_KEEP,
    HISTORY_TAG,
    MODEL_URI_TAG,
    TrackingError,
    check_run_owner,
    client,
    learner_tags,
    owned_model,
)

# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version with what the page needs to show."""

    version: int
    run_id: str
    aliases: tuple[str, ...]
    description: str
    tags: dict[str, str]
    created: float
    metrics: dict[str, float]


def register_run_model(
    run_id: str,
    learner: str,
    description: str = "",
    settings: Settings | None = None,
    *,
    model: str | None = None,
) -> VersionInfo:
    """Register the model a run logged as a new version of the learner's registered model (`owned_model`).

    Raises:
        TrackingError: the run has no model; class mode: the run or `model` is another learner's.
    """
    from mlflow.exceptions import MlflowException

    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:
        raise TrackingError("run_not_found", run_id=run_id) from exc
    check_run_owner(run, learner, settings)
    model_uri = run.data.tags.get(MODEL_URI_TAG)
    if not model_uri:
        raise TrackingError("no_logged_model", run_id=run_id)
    try:
        c.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/") else None
    version = c.create_model_version(
        name,
        source=model_uri,
        run_id=run_id,
        tags={**learner_tags(learner), "run_id": run_id},
        description=description or None,
        model_id=model_id,
    )
    return _version_info(c, c.get_model_version(name, version.version))


def _version_info(c, mv, alias_map: dict[str, int] | None = None) -> VersionInfo:
    if alias_map is not None:  # search results do not carry aliases; the registered model does
        version_aliases = tuple(sorted(a for a, v in alias_map.items() if v == int(mv.version)))
    else:
        version_aliases = tuple(sorted(mv.aliases or ()))
    try:
        metrics = c.get_run(mv.run_id).data.metrics if mv.run_id else {}
    except Exception:  # the run was deleted: the version stays usable
        metrics = {}
    return VersionInfo(
        version=int(mv.version),
        run_id=mv.run_id or "",
        aliases=version_aliases,
        description=mv.description or "",
        tags=dict(mv.tags or {}),
        created=mv.creation_timestamp / 1000,
        metrics=dict(metrics),
    )


def get_version(
    version: int, settings: Settings | None = None, *, learner: str | None = None, model: str | None = None
) -> VersionInfo:
    """One version of the learner's registered model."""
    settings = settings or get_settings()
    c = client(settings)
    return _version_info(c, c.get_model_version(owned_model(settings, learner, model), str(version)))


def list_versions(
    settings: Settings | None = None, *, learner: str | None = None, model: str | None = None
) -> list[VersionInfo]:
    """Every version of the learner's registered model, newest first (empty if nothing is registered yet).

    Raises:
        TrackingError: class mode: no learner, or `model` is another learner's (see `owned_model`).
    """
    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    c = client(settings)
    versions = [mv for mv in c.search_model_versions(equals_filter("name", name)) if mv.name == name]
    alias_map = _aliases(c, name)
    return sorted((_version_info(c, mv, alias_map) for mv in versions), key=lambda v: -v.version)


def _aliases(c, name: str) -> dict[str, int]:
    try:
        registered = c.get_registered_model(name)
    except Exception:
        return {}
    return {alias: int(version) for alias, version in (registered.aliases or {}).items()}


def aliases(
    settings: Settings | None = None, *, learner: str | None = None, model: str | None = None
) -> dict[str, int]:
    """Alias → version of the learner's registered model (empty if not registered)."""
    settings = settings or get_settings()
    return _aliases(client(settings), owned_model(settings, learner, model))


def resolve_alias(
    alias: str, settings: Settings | None = None, *, learner: str | None = None, model: str | None = None
) -> int | None:
    """The version an alias of the learner's registered model points to, or None."""
    return aliases(settings, learner=learner, model=model).get(alias)


def production_history(
    settings: Settings | None = None, *, learner: str | None = None, model: str | None = None
) -> list[dict]:
    """Every move of `production` of the learner's registered model done through the workbench, oldest first."""
    settings = settings or get_settings()
    c = client(settings)
    try:
        tags = c.get_registered_model(owned_model(settings, learner, model)).tags or {}
    except TrackingError:
        raise
    except Exception:
        return []
    history = []
    for key in [HISTORY_TAG, *sorted(k for k in tags if k.startswith(HISTORY_ENTRY_PREFIX))]:
        try:
            value = json.loads(tags.get(key, "[]"))
        except json.JSONDecodeError:
            continue
        history += value if isinstance(value, list) else [value]
    return [h for h in history if isinstance(h, dict)]


def _append_history(c, name: str, entry: dict) -> None:
    """Record one move as its own tag: moves made at once by several processes all stay recorded."""
    import secrets

    key = f"{HISTORY_ENTRY_PREFIX}{time.time_ns():020d}.{secrets.token_hex(4)}"
    c.set_registered_model_tag(name, key, json.dumps(entry))
    tags = c.get_registered_model(name).tags or {}
    entries = sorted(k for k in tags if k.startswith(HISTORY_ENTRY_PREFIX))
    for old in entries[: max(0, len(entries) - HISTORY_KEEP)]:
        try:
            c.delete_registered_model_tag(name, old)
        except Exception as exc:  # deleted meanwhile by another process pruning too
            logging.getLogger("workbench.core.tracking").info("history tag %s already pruned: %s", old, exc)


def set_alias(
    alias: str, version: int, learner: str, settings: Settings | None = None, *, model: str | None = None
) -> None:
    """Point `alias` of the learner's registered model at `version` (moving it if it pointed elsewhere).

    Raises:
        TrackingError: unknown alias name or version; class mode: `model` is another learner's.
    """
    from mlflow.exceptions import MlflowException

    settings = settings or get_settings()
    if alias not in ALIASES:
        raise TrackingError("unknown_alias", alias=alias, aliases=", ".join(ALIASES))
    name = owned_model(settings, learner, model)
    c = client(settings)
    try:
        c.get_model_version(name, str(int(version)))
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            raise TrackingError("no_such_version", version=version) from exc
        raise
    previous = _aliases(c, name).get(alias)
    c.set_registered_model_alias(name, alias, str(version))
    if alias == "production":
        _append_history(
            c,
            name,
            {"action": "promote", "version": version, "previous": previous, "learner": learner, "at": time.time()},
        )


def delete_alias(alias: str, learner: str, settings: Settings | None = None, *, model: str | None = None) -> None:
    """Remove an alias of the learner's registered model (the version itself stays)."""
    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    c = client(settings)
    previous = _aliases(c, name).get(alias)
    if previous is None:
        return
    c.delete_registered_model_alias(name, alias)
    if alias == "production":
        _append_history(
            c, name, {"action": "remove", "version": None, "previous": previous, "learner": learner, "at": time.time()}
        )


def promote_staging(learner: str, settings: Settings | None = None, *, model: str | None = None) -> int:
    """Move `production` to the version `staging` points to. Returns that version.

    Raises:
        TrackingError: no version has the `staging` alias.
    """
    version = resolve_alias("staging", settings, learner=learner, model=model)
    if version is None:
        raise TrackingError("no_staging")
    set_alias("production", version, learner, settings, model=model)
    return version


def rollback_production(learner: str, settings: Settings | None = None, *, model: str | None = None) -> int:
    """Point `production` back at the version it pointed to before its last move. Returns it.

    Raises:
        TrackingError: there is no earlier production version to go back to.
    """
    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    current = resolve_alias("production", settings, learner=learner, model=name)
    history = [
        h
        for h in production_history(settings, learner=learner, model=name)
        if h.get("action") in ("promote", "rollback")
    ]
    target = None
    for entry in reversed(history):
        if entry["version"] == current and entry.get("previous") not in (None, current):
            target = entry["previous"]
            break
    if target is None:
        raise TrackingError("no_rollback")
    c = client(settings)
    c.set_registered_model_alias(name, "production", str(target))
    # The new entry's "previous" is the version that was current before *its* promotion, so a second
    # rollback keeps walking back in time rather than bouncing between two versions.
    earlier = next((h.get("previous") for h in reversed(history) if h["version"] == target), None)
    _append_history(
        c,
        name,
        {
            "action": "rollback",
            "version": target,
            "previous": earlier,
            "from": current,
            "learner": learner,
            "at": time.time(),
        },
    )
    return target


def set_description(
    version: int,
    description: str,
    settings: Settings | None = None,
    *,
    learner: str | None = None,
    model: str | None = None,
) -> None:
    """Change a version's description."""
    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    client(settings).update_model_version(name, str(version), description=description)


def set_version_tag(
    version: int,
    key: str,
    value: str,
    settings: Settings | None = None,
    *,
    learner: str | None = None,
    model: str | None = None,
) -> None:
    """Set a tag on a version."""
    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    client(settings).set_model_version_tag(name, str(version), key, value)


def load_model(
    alias: str = "production", settings: Settings | None = None, *, learner: str | None = None, model: str | None = None
):
    """Load `models:/<name>@<alias>` of the learner's registered model as a scikit-learn pipeline, safely.

    Raises:
        TrackingError: the alias points nowhere.
        workbench.core.safe_models.ModelRefused: the model could run code when loaded (pickle...): refused.
    """
    from workbench.core import safe_models

    settings = settings or get_settings()
    name = owned_model(settings, learner, model)
    version = resolve_alias(alias, settings, learner=learner, model=name)
    if version is None:
        raise TrackingError("alias_nowhere", alias=alias)
    return safe_models.load_model_uri(f"models:/{name}/{version}", settings)


def predict_with_alias(
    rows: pd.DataFrame, alias: str = "production", settings: Settings | None = None, *, learner: str | None = None
) -> pd.DataFrame:
    """Predictions of the model behind an alias of the learner's registered model for a loan table."""
    from workbench.core.modeling import predict_frame

    return predict_frame(load_model(alias, settings, learner=learner), rows[list(FEATURES)])
