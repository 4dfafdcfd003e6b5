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
    _mlflow,
    client,
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
    run_id: str, learner: str, description: str = "", settings: Settings | None = None
) -> VersionInfo:
    """Register the model a run logged as a new version of the course's registered model.

    Raises:
        TrackingError: the run has no model.
    """
    settings = settings or get_settings()
    mlflow = _mlflow(settings)
    c = client(settings)
    try:
        run = c.get_run(run_id)
    except Exception as exc:
        raise TrackingError("run_not_found", run_id=run_id) from exc
    model_uri = run.data.tags.get(MODEL_URI_TAG)
    if not model_uri:
        raise TrackingError("no_logged_model", run_id=run_id)
    version = mlflow.register_model(model_uri, settings.model_name, tags={"learner": learner, "run_id": run_id})
    if description:
        c.update_model_version(settings.model_name, version.version, description=description)
    return get_version(int(version.version), settings)


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


def get_version(version: int, settings: Settings | None = None) -> VersionInfo:
    """One version of the registered model."""
    settings = settings or get_settings()
    c = client(settings)
    return _version_info(c, c.get_model_version(settings.model_name, str(version)))


def list_versions(settings: Settings | None = None) -> list[VersionInfo]:
    """Every version of the registered model, newest first (empty if nothing is registered yet)."""
    settings = settings or get_settings()
    c = client(settings)
    versions = [
        mv
        for mv in c.search_model_versions(equals_filter("name", settings.model_name))
        if mv.name == settings.model_name
    ]
    alias_map = aliases(settings)
    return sorted((_version_info(c, mv, alias_map) for mv in versions), key=lambda v: -v.version)


def aliases(settings: Settings | None = None) -> dict[str, int]:
    """Alias → version of the registered model (empty if not registered)."""
    settings = settings or get_settings()
    c = client(settings)
    try:
        model = c.get_registered_model(settings.model_name)
    except Exception:
        return {}
    return {alias: int(version) for alias, version in (model.aliases or {}).items()}


def resolve_alias(alias: str, settings: Settings | None = None) -> int | None:
    """The version an alias points to, or None."""
    return aliases(settings).get(alias)


def production_history(settings: Settings | None = None) -> list[dict]:
    """Every move of `production` done through the workbench, oldest first."""
    settings = settings or get_settings()
    c = client(settings)
    try:
        tags = c.get_registered_model(settings.model_name).tags or {}
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


def _append_history(c, settings: Settings, entry: dict) -> None:
    """Record one move as its own tag: moves made at once by several processes all stay recorded."""
    import secrets

    key = f"{HISTORY_ENTRY_PREFIX}{time.time_ns():020d}.{secrets.token_hex(4)}"
    c.set_registered_model_tag(settings.model_name, key, json.dumps(entry))
    tags = c.get_registered_model(settings.model_name).tags or {}
    entries = sorted(k for k in tags if k.startswith(HISTORY_ENTRY_PREFIX))
    for old in entries[: max(0, len(entries) - HISTORY_KEEP)]:
        try:
            c.delete_registered_model_tag(settings.model_name, old)
        except Exception as exc:  # deleted meanwhile by another process pruning too
            logging.getLogger("workbench.core.tracking").info("history tag %s already pruned: %s", old, exc)


def set_alias(alias: str, version: int, learner: str, settings: Settings | None = None) -> None:
    """Point `alias` at `version` (moving it if it pointed elsewhere).

    Raises:
        TrackingError: unknown alias name or version.
    """
    settings = settings or get_settings()
    if alias not in ALIASES:
        raise TrackingError("unknown_alias", alias=alias, aliases=", ".join(ALIASES))
    c = client(settings)
    known = {v.version for v in list_versions(settings)}
    if version not in known:
        raise TrackingError("no_such_version", version=version)
    previous = resolve_alias(alias, settings)
    c.set_registered_model_alias(settings.model_name, alias, str(version))
    if alias == "production":
        _append_history(
            c,
            settings,
            {"action": "promote", "version": version, "previous": previous, "learner": learner, "at": time.time()},
        )


def delete_alias(alias: str, learner: str, settings: Settings | None = None) -> None:
    """Remove an alias (the version itself stays)."""
    settings = settings or get_settings()
    c = client(settings)
    previous = resolve_alias(alias, settings)
    if previous is None:
        return
    c.delete_registered_model_alias(settings.model_name, alias)
    if alias == "production":
        _append_history(
            c,
            settings,
            {"action": "remove", "version": None, "previous": previous, "learner": learner, "at": time.time()},
        )


def promote_staging(learner: str, settings: Settings | None = None) -> int:
    """Move `production` to the version `staging` points to. Returns that version.

    Raises:
        TrackingError: no version has the `staging` alias.
    """
    version = resolve_alias("staging", settings)
    if version is None:
        raise TrackingError("no_staging")
    set_alias("production", version, learner, settings)
    return version


def rollback_production(learner: str, settings: Settings | None = None) -> int:
    """Point `production` back at the version it pointed to before its last move. Returns it.

    Raises:
        TrackingError: there is no earlier production version to go back to.
    """
    settings = settings or get_settings()
    current = resolve_alias("production", settings)
    history = [h for h in production_history(settings) if h.get("action") in ("promote", "rollback")]
    target = None
    for entry in reversed(history):
        if entry["version"] == current and entry.get("previous") not in (None, current):
            target = entry["previous"]
            break
    if target is None:
        raise TrackingError("no_rollback")
    c = client(settings)
    c.set_registered_model_alias(settings.model_name, "production", str(target))
    # The new entry's "previous" is the version that was current before *its* promotion, so a second
    # rollback keeps walking back in time rather than bouncing between two versions.
    earlier = next((h.get("previous") for h in reversed(history) if h["version"] == target), None)
    _append_history(
        c,
        settings,
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


def set_description(version: int, description: str, settings: Settings | None = None) -> None:
    """Change a version's description."""
    settings = settings or get_settings()
    client(settings).update_model_version(settings.model_name, str(version), description=description)


def set_version_tag(version: int, key: str, value: str, settings: Settings | None = None) -> None:
    """Set a tag on a version."""
    settings = settings or get_settings()
    client(settings).set_model_version_tag(settings.model_name, str(version), key, value)


def load_model(alias: str = "production", settings: Settings | None = None):
    """Load `models:/<name>@<alias>` as a scikit-learn pipeline, safely (skops, our trusted types).

    Raises:
        TrackingError: the alias points nowhere.
        workbench.core.safe_models.ModelRefused: the model could run code when loaded (pickle...): refused.
    """
    from workbench.core import safe_models

    settings = settings or get_settings()
    version = resolve_alias(alias, settings)
    if version is None:
        raise TrackingError("alias_nowhere", alias=alias)
    return safe_models.load_model_uri(f"models:/{settings.model_name}/{version}", settings)


def predict_with_alias(rows: pd.DataFrame, alias: str = "production", settings: Settings | None = None) -> pd.DataFrame:
    """Predictions of the model behind an alias for a loan table."""
    from workbench.core.modeling import predict_frame

    return predict_frame(load_model(alias, settings), rows[list(FEATURES)])
