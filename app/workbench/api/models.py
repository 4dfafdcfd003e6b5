"""Which model the API serves: the registry alias (default `production`), or a model trained at start-up
when no registry model was ever loaded.

Rules, so that serving stays trustworthy when the registry misbehaves:
- a registry model is loaded only through `workbench.core.safe_models` (skops with our reviewed types) and
  smoke-tested on valid applications before it replaces the served model; a refused candidate is
  reported (`/health` degraded, `/model` says why) and the last good model keeps serving;
- a registry that fails (unreachable, locked, slow) never replaces the served model: the API keeps the
  last good one, logs a WARNING with the reason, and tries again at the next poll;
- start-up waits at most `api_startup_seconds` for the registry, then serves the fallback (labelled as
  such everywhere) and keeps trying in the background;
- one load at a time: concurrent reloads wait for the one in progress instead of starting their own.
A watcher thread notices alias moves; requests in flight finish with the model they started with.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.data import FEATURES, NUMERIC_FEATURES
from workbench.core.settings import Settings
from workbench.fastpredict import CompiledPipeline, compile_pipeline, verify

log = logging.getLogger("workbench.api")
#: A registry read or model load running longer than this is reported by /health (degraded).
SLOW_REGISTRY_SECONDS = 5.0


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to serve, with where it comes from."""

    pipeline: Any
    compiled: CompiledPipeline | None
    name: str
    version: str
    alias: str | None
    run_id: str | None
    source: str  # "registry" | "fallback"
    source_detail: str
    metrics: dict[str, float] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.time)

    def predict_proba(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """Probability of approval for each input dict (compiled NumPy path when available)."""
        if self.compiled is not None:
            return self.compiled.predict_proba(rows)
        return self.pipeline.predict_proba(as_frame(rows))[:, 1]


@dataclass(frozen=True)
class Refusal:
    """A registry version the API would not serve, and why."""

    version: str
    reason: str  # a workbench.core.safe_models reason key: pickle_format, untrusted_types, smoke_test...
    params: dict[str, str]  # the reason's details (format, types, error), for a message in the reader's language
    message: str  # English
    at: float = field(default_factory=time.time)


def as_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Input dicts as the loan table a pipeline expects (numeric columns as floats, None as NaN)."""
    frame = pd.DataFrame(rows, columns=list(FEATURES)).astype({c: "float64" for c in NUMERIC_FEATURES})
    return frame.where(frame.notna(), np.nan)


def _prepare(pipeline: Any, reference: pd.DataFrame | None) -> CompiledPipeline | None:
    compiled = compile_pipeline(pipeline)
    if compiled is None or reference is None:
        return compiled
    try:
        agrees = verify(compiled, pipeline, reference)
    except (ValueError, TypeError) as exc:
        log.warning("cannot check the compiled predictor (%s): serving the pipeline itself", exc)
        return None
    if not agrees:
        log.warning("compiled predictor disagrees with the pipeline: serving the pipeline itself")
        return None
    return compiled


class ModelManager:
    """Holds the served model and keeps it in step with the registry alias."""

    def __init__(self, settings: Settings, alias: str | None = None) -> None:
        self.settings = settings
        self.alias = alias or settings.api_alias
        self._model: LoadedModel | None = None
        self._swap_lock = threading.Lock()  # guards _model
        self._load_lock = threading.Lock()  # one registry load at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reference: pd.DataFrame | None = None
        self.refused: Refusal | None = None  # the last candidate refused (None once a good one loads)
        self.registry_problem: str | None = None  # why the registry could not be read, if it could not
        self.alias_missing: bool = False  # the alias was removed while a registry model was serving
        self.loading: str | None = None  # the version being loaded right now, if any
        self._busy_since: float | None = None  # when the registry read or load in progress started

    # ------------------------------------------------------------------------------------------
    # What is served
    # ------------------------------------------------------------------------------------------

    @property
    def model(self) -> LoadedModel:
        """The model serving now (loads one on first use when `start` was not called)."""
        model = self._model
        if model is None:
            self.refresh()
            model = self._model
            if model is None:  # the registry failed and nothing was ever loaded
                self._serve_fallback_if_empty()
                model = self._model
        return model

    def problems(self) -> list[str]:
        """What is wrong with serving now, in English (empty when all is well)."""
        found = []
        busy = self._busy_since
        if busy is not None and time.monotonic() - busy > SLOW_REGISTRY_SECONDS:
            if self.loading is None:
                found.append(
                    f"the registry has not answered for {time.monotonic() - busy:.0f} s (locked or "
                    "unreachable store?); the served model is kept"
                )
            else:
                found.append(f"loading version {self.loading} has taken {time.monotonic() - busy:.0f} s so far")
        if self.registry_problem:
            found.append(
                f"the registry did not answer, so the served model may be out of date: {self.registry_problem}"
            )
        if self.refused is not None:
            found.append(f"version {self.refused.version} of @{self.alias} was refused: {self.refused.message}")
        if self.loading is not None and self._model is not None and self._model.source == "fallback":
            found.append(f"version {self.loading} of @{self.alias} is still loading; a fallback model serves meanwhile")
        if self.alias_missing and self._model is not None:
            found.append(f"@{self.alias} no longer points to any version; still serving version {self._model.version}")
        return found

    def reference(self) -> pd.DataFrame:
        """Rows used to check the compiled predictor against the pipeline."""
        if self._reference is None:
            from workbench.core.data import generate_loan_data, load_course_data

            try:
                course = load_course_data()
            except (OSError, ValueError):
                course = generate_loan_data()
            odd = generate_loan_data(200, seed=99)
            self._reference = pd.concat([course.head(300), odd], ignore_index=True)
        return self._reference

    def smoke_rows(self) -> pd.DataFrame:
        """Valid, complete applications every served model must score (the smoke test)."""
        from workbench.core.api_client import EXAMPLE_APPLICATION

        complete = self.reference()[list(FEATURES)].dropna().head(20)
        return as_frame([EXAMPLE_APPLICATION, *complete.to_dict("records")])

    # ------------------------------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """First load, bounded: wait up to `api_startup_seconds` for the registry, then serve the fallback
        and let the watcher keep trying. Starts the watcher."""
        first = threading.Thread(target=self._first_load, name="model-first-load", daemon=True)
        first.start()
        first.join(self.settings.api_startup_seconds)
        if self._model is None:
            if first.is_alive() and self.loading is None:
                self.registry_problem = f"no answer within {self.settings.api_startup_seconds:g} s at start-up"
                log.warning(
                    "registry %s did not answer within %g s: serving a fallback model meanwhile",
                    self.settings.mlflow_tracking_uri,
                    self.settings.api_startup_seconds,
                )
            elif first.is_alive():
                log.warning(
                    "version %s still loading after %g s: serving a fallback model meanwhile",
                    self.loading,
                    self.settings.api_startup_seconds,
                )
            self._serve_fallback_if_empty()
        self.start_watching()

    def _first_load(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # a thread must not die silently: the watcher retries
            log.warning("first model load failed: %s", exc)

    def refresh(self, force: bool = False) -> bool:
        """Load the alias's version if it changed (or always with `force`). Returns True if swapped.

        One load at a time: a caller arriving during a load waits for it and returns False.
        """
        if not self._load_lock.acquire(blocking=False):
            with self._load_lock:  # coalesce: the load in progress answers for us too
                return False
        self._busy_since = started = time.monotonic()
        try:
            return self._refresh_locked(force)
        finally:
            self._busy_since = None
            self._load_lock.release()
            if (elapsed := time.monotonic() - started) > SLOW_REGISTRY_SECONDS:
                log.warning(
                    "reading the registry (%s) and loading any new version took %.0f s; requests were "
                    "served by the previous model meanwhile",
                    self.settings.mlflow_tracking_uri,
                    elapsed,
                )

    def _refresh_locked(self, force: bool) -> bool:
        from workbench.core import tracking
        from workbench.core.safe_models import ModelRefused

        try:
            version = tracking.alias_version(self.alias, self.settings)
        except tracking.RegistryUnavailable as exc:
            self._registry_failed(str(exc.params.get("reason", exc)))
            return False
        if self.registry_problem:
            log.warning("registry answers again: %s", self.settings.mlflow_tracking_uri)
            self.registry_problem = None
        current = self._model
        if version is None:
            self.alias_missing = current is not None and current.source == "registry"
            if current is None:
                self._set(self._train_fallback(f"no version has the alias '{self.alias}' yet"))
                return True
            return False
        self.alias_missing = False
        name = str(version)
        if not force and current is not None and current.source == "registry" and current.version == name:
            return False
        if not force and self.refused is not None and self.refused.version == name:
            return False  # already refused; a move of the alias or POST /reload tries again
        self.loading = name
        try:
            candidate = self._load_registry(name)
        except ModelRefused as exc:
            self.refused = Refusal(name, exc.key, {k: str(v) for k, v in exc.params.items()}, str(exc))
            log.warning(
                "refusing %s version %s (@%s), %s. Why: %s",
                self.settings.model_name,
                name,
                self.alias,
                "keeping the model being served" if current else "serving a fallback model",
                exc,
            )
            if current is None:
                self._set(self._train_fallback(f"version {name} of '@{self.alias}' was refused: {exc}"))
            return False
        except tracking.RegistryUnavailable as exc:
            self._registry_failed(str(exc.params.get("reason", exc)))
            return False
        except Exception as exc:  # download failed midway, store error...: keep serving what we have
            self._registry_failed(f"loading version {name} failed: {type(exc).__name__}: {str(exc)[:300]}")
            return False
        finally:
            self.loading = None
        self.refused = None
        self._set(candidate)
        log.info("serving %s version %s (@%s)", self.settings.model_name, name, self.alias)
        return True

    def _registry_failed(self, reason: str) -> None:
        if reason != self.registry_problem:
            log.warning(
                "registry problem (%s): %s; %s",
                self.settings.mlflow_tracking_uri,
                reason,
                "keeping the model being served" if self._model else "no model loaded yet",
            )
        self.registry_problem = reason

    def _set(self, model: LoadedModel) -> None:
        with self._swap_lock:
            self._model = model

    def _serve_fallback_if_empty(self) -> None:
        if self._model is not None:
            return
        if self.registry_problem:
            reason = f"the registry could not be read ({self.registry_problem})"
        elif self.loading is not None:
            reason = f"version {self.loading} of '@{self.alias}' was still loading at start-up"
        else:
            reason = f"no version of '@{self.alias}' could be loaded"
        fallback = self._train_fallback(reason)
        with self._swap_lock:
            if self._model is None:
                self._model = fallback

    def _load_registry(self, version: str) -> LoadedModel:
        from workbench.core import safe_models, tracking

        client = tracking.registry_client(self.settings)
        mv = client.get_model_version(self.settings.model_name, version)
        pipeline = safe_models.load_model_uri(f"models:/{self.settings.model_name}/{version}", self.settings)
        safe_models.check_predicts(pipeline, self.smoke_rows())
        metrics = {}
        if mv.run_id:
            try:
                metrics = dict(client.get_run(mv.run_id).data.metrics)
            except Exception:  # the run may have been deleted; the version still serves
                metrics = {}
        return LoadedModel(
            pipeline=pipeline,
            compiled=_prepare(pipeline, self.reference()),
            name=self.settings.model_name,
            version=version,
            alias=self.alias,
            run_id=mv.run_id,
            source="registry",
            source_detail=f"models:/{self.settings.model_name}@{self.alias} (version {version})",
            metrics=metrics,
        )

    def _train_fallback(self, reason: str) -> LoadedModel:
        from workbench.core.data import generate_loan_data, load_course_data
        from workbench.core.modeling import train_model

        try:
            data = load_course_data()
        except (OSError, ValueError):
            data = generate_loan_data()
        result = train_model(data, "logistic_regression")
        log.warning("serving a fallback model (logistic regression trained at start-up): %s", reason)
        return LoadedModel(
            pipeline=result.pipeline,
            compiled=_prepare(result.pipeline, self.reference()),
            name=self.settings.model_name,
            version="fallback",
            alias=None,
            run_id=None,
            source="fallback",
            source_detail=f"logistic regression trained at start-up on the course dataset ({len(data)} rows), "
            f"because {reason}",
            metrics=dict(result.evaluation.metrics),
        )

    # ------------------------------------------------------------------------------------------
    # Watching the alias
    # ------------------------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Poll the registry in a background thread (every `api_poll_seconds`; 0 disables it)."""
        if self.settings.api_poll_seconds <= 0 or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.settings.api_poll_seconds):
                try:
                    self.refresh()
                except Exception as exc:  # keep watching whatever happens
                    log.error("model refresh failed: %s", exc)

        self._thread = threading.Thread(target=loop, name="model-watcher", daemon=True)
        self._thread.start()

    def stop_watching(self) -> None:
        """Stop the watcher thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
