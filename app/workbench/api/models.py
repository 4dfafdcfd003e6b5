"""Which model the API serves: the registry alias (default `production`), or a model trained at start-up
when the registry has none. A watcher thread notices when the alias moves and swaps the model in
without failing a request (requests in flight finish with the model they started with)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.data import FEATURES, NUMERIC_FEATURES
from workbench.fastpredict import CompiledPipeline, compile_pipeline, verify
from workbench.settings import Settings

log = logging.getLogger("workbench.api")


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
        frame = pd.DataFrame(rows, columns=list(FEATURES)).astype({c: "float64" for c in NUMERIC_FEATURES})
        frame = frame.where(frame.notna(), np.nan)
        return self.pipeline.predict_proba(frame)[:, 1]


def _prepare(pipeline: Any, reference: pd.DataFrame | None) -> CompiledPipeline | None:
    compiled = compile_pipeline(pipeline)
    if compiled is not None and reference is not None and not verify(compiled, pipeline, reference):
        log.warning("compiled predictor disagrees with the pipeline: serving the pipeline itself")
        return None
    return compiled


class ModelManager:
    """Holds the served model and keeps it in step with the registry alias."""

    def __init__(self, settings: Settings, alias: str | None = None) -> None:
        self.settings = settings
        self.alias = alias or settings.api_alias
        self._model: LoadedModel | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reference: pd.DataFrame | None = None

    @property
    def model(self) -> LoadedModel:
        """The model serving now (loads it on first use)."""
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
                model = self._model
        return model

    def reference(self) -> pd.DataFrame:
        """Rows used to check the compiled predictor against the pipeline."""
        if self._reference is None:
            from workbench.data import generate_loan_data, load_course_data

            try:
                course = load_course_data()
            except (OSError, ValueError):
                course = generate_loan_data()
            odd = generate_loan_data(200, seed=99)
            self._reference = pd.concat([course.head(300), odd], ignore_index=True)
        return self._reference

    def registry_version(self) -> str | None:
        """The version the alias points to now, or None (no registry, no model, no alias)."""
        try:
            from workbench import tracking

            version = tracking.resolve_alias(self.alias, self.settings)
        except Exception as exc:  # an unreachable or empty store means: no registry model
            log.info("registry not available: %s", exc)
            return None
        return None if version is None else str(version)

    def _load(self) -> LoadedModel:
        version = self.registry_version()
        if version is not None:
            try:
                return self._load_registry(version)
            except Exception as exc:  # a broken version must not take the API down
                log.error("cannot load %s@%s (version %s): %s", self.settings.model_name, self.alias, version, exc)
        return self._train_fallback()

    def _load_registry(self, version: str) -> LoadedModel:
        from workbench import tracking

        client = tracking.client(self.settings)
        mv = client.get_model_version(self.settings.model_name, version)
        pipeline = tracking._mlflow(self.settings).sklearn.load_model(f"models:/{self.settings.model_name}/{version}")
        metrics = {}
        if mv.run_id:
            try:
                metrics = dict(client.get_run(mv.run_id).data.metrics)
            except Exception:  # the run may have been deleted; the version still serves
                metrics = {}
        log.info("serving %s version %s (@%s)", self.settings.model_name, version, self.alias)
        return LoadedModel(
            pipeline=pipeline, compiled=_prepare(pipeline, self.reference()), name=self.settings.model_name,
            version=version, alias=self.alias, run_id=mv.run_id, source="registry",
            source_detail=f"models:/{self.settings.model_name}@{self.alias} (version {version})", metrics=metrics,
        )  # fmt: skip

    def _train_fallback(self) -> LoadedModel:
        from workbench.data import generate_loan_data, load_course_data
        from workbench.modeling import train_model

        try:
            data = load_course_data()
        except (OSError, ValueError):
            data = generate_loan_data()
        result = train_model(data, "logistic_regression")
        log.warning("no model at %s@%s: serving a logistic regression trained at start-up",
                    self.settings.model_name, self.alias)  # fmt: skip
        return LoadedModel(
            pipeline=result.pipeline, compiled=_prepare(result.pipeline, self.reference()),
            name=self.settings.model_name, version="fallback", alias=None, run_id=None, source="fallback",
            source_detail=f"no version has the alias '{self.alias}' yet: logistic regression trained at start-up "
            f"on the course dataset ({len(data)} rows)",
            metrics=dict(result.evaluation.metrics),
        )  # fmt: skip

    def refresh(self, force: bool = False) -> bool:
        """Load the alias's version if it changed (or always with `force`). Returns True if swapped."""
        version = self.registry_version()
        current = self._model
        if not force and current is not None:
            unchanged = (version is None and current.source == "fallback") or (
                version is not None and current.source == "registry" and version == current.version
            )
            if unchanged:
                return False
        new = self._load()  # built before the swap: requests keep using the old model meanwhile
        with self._lock:
            self._model = new
        return True

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
