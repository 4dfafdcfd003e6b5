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

How a model serves (`/model` says which and why): `compiled` (the pipeline turned into NumPy by
`workbench.api.compiler`, checked against the pipeline's own answers at load time), else `batched`
(concurrent requests share one `predict_proba` call, `workbench.api.batching`), else `plain` (one call
per request, when the model's answers for a row depend on the other rows of a call).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.api.compiler import (
    CompiledPipeline,
    CompiledPreprocessing,
    InputSchema,
    NotCompilable,
    compile_pipeline,
    compile_preprocessing,
    verify,
)
from workbench.core.data import FEATURES, NUMERIC_FEATURES
from workbench.core.settings import Settings

log = logging.getLogger("workbench.api")
#: A registry read or model load running longer than this is reported by /health (degraded).
SLOW_REGISTRY_SECONDS = 5.0


#: The API's input table: the 11 course fields, numbers as floats.
API_SCHEMA = InputSchema(tuple(FEATURES), frozenset(NUMERIC_FEATURES))
COMPILED, BATCHED, PLAIN = "compiled", "batched", "plain"


@dataclass(frozen=True)
class ServingPath:
    """How a model is served, and why."""

    path: str  # compiled | batched | plain
    reason: str  # English, one sentence
    unsupported_step: str | None = None  # the step the compiler could not compile (path and class)


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
    serving: ServingPath = field(default_factory=lambda: ServingPath(PLAIN, "not checked"))
    preprocessing: CompiledPreprocessing | None = None  # compiled steps in front of a model left as it is

    def predict_proba(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """Probability of approval for each input dict (compiled NumPy path when available; the pipeline
        answers whenever the compiled model fails, so it never changes an answer or an error)."""
        fast = self.compiled if self.compiled is not None else self.preprocessing
        if fast is not None:
            try:
                probabilities = fast.predict_proba(rows)
            except Exception as exc:  # noqa: BLE001 - the pipeline decides: its answer, or its error
                log.debug("compiled model failed (%s): asking the pipeline", exc)
            else:
                if np.isfinite(probabilities).all():
                    return probabilities
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
    """Input dicts as the loan table a pipeline expects (numeric columns as floats, text as Python objects,
    None as NaN). Built from one object array: pandas' own text dtype costs milliseconds per call."""
    values = np.array([[row.get(c) for c in FEATURES] for row in rows], dtype=object).reshape(len(rows), len(FEATURES))
    values[values == None] = np.nan  # noqa: E711 - elementwise comparison
    frame = pd.DataFrame(values, columns=list(FEATURES), dtype=object)
    return frame.astype({c: "float64" for c in NUMERIC_FEATURES})


def generated_rows(n: int = 300, seed: int = 7) -> list[dict[str, Any]]:
    """Valid applications with every field drawn on its own (any category, None where allowed, numbers
    across their whole range): rows no dataset holds, for the load-time checks."""
    from workbench.core.data import CATEGORIES, NUMERIC_RANGES

    rng = np.random.default_rng(seed)
    required = {"Education", "Property_Area", "ApplicantIncome", "CoapplicantIncome"}
    rows = []
    for _ in range(n):
        row: dict[str, Any] = {}
        for column, values in CATEGORIES.items():
            row[column] = str(rng.choice(values))
        for column, (low, high) in NUMERIC_RANGES.items():
            row[column] = float(rng.choice([low, high, rng.uniform(low, high), round(rng.uniform(low, high))]))
        row["Credit_History"] = int(rng.integers(0, 2))
        row["LoanAmount"] = max(row["LoanAmount"], 1.0)
        row["Loan_Amount_Term"] = max(row["Loan_Amount_Term"], 1.0)
        for column in FEATURES:
            if column not in required and rng.random() < 0.15:
                row[column] = None
        rows.append(row)
    return rows


def choose_serving(
    pipeline: Any, reference: pd.DataFrame | None
) -> tuple[CompiledPipeline | None, ServingPath, CompiledPreprocessing | None]:
    """Compile the pipeline and check it against the pipeline's own answers on `reference` (the API's
    input table); else check that it can be micro-batched (a row's answer does not depend on the others),
    with its preprocessing compiled when only the model cannot be. Returns (compiled, how it serves,
    compiled preprocessing)."""
    try:
        compiled = compile_pipeline(pipeline, API_SCHEMA)
    except NotCompilable as exc:
        log.info("not compiled: %s", exc)
        compiled, why, step = None, f"{exc.step} cannot be compiled: {exc.reason}", exc.step
    except Exception as exc:  # noqa: BLE001 - an unexpected structure: serve the pipeline itself
        log.warning("compiling the pipeline failed: %s: %s", type(exc).__name__, exc)
        compiled, why, step = None, f"compiling failed ({type(exc).__name__}: {str(exc)[:200]})", None
    else:
        problem = "no rows to check it on" if reference is None else verify(compiled, pipeline, reference)
        if problem is None:
            return (
                compiled,
                ServingPath(
                    COMPILED,
                    f"compiled to NumPy ({compiled.model}); same answers as the pipeline on "
                    f"{len(reference)} check rows (to 1e-9)",
                ),
                None,
            )
        log.warning("the compiled model disagrees with the pipeline (%s): not using it", problem)
        compiled, why, step = None, f"the compiled model differs from the pipeline: {problem[:300]}", None
    if reference is not None:
        problem = _batch_problem(pipeline, reference)
        if problem is not None:
            return None, ServingPath(PLAIN, f"{why}; and {problem}, so each request is scored alone", step), None
    preprocessing = _preprocessing(pipeline, reference) if step is not None else None
    how = "; its preprocessing is compiled and the model called on its output" if preprocessing else ""
    return (
        None,
        ServingPath(BATCHED, f"{why}{how}; concurrent requests are scored together (micro-batching)", step),
        preprocessing,
    )


def _preprocessing(pipeline: Any, reference: pd.DataFrame | None) -> CompiledPreprocessing | None:
    """The compiled steps in front of the model, when they compile and give the pipeline's answers."""
    if reference is None:
        return None
    try:
        preprocessing = compile_preprocessing(pipeline, API_SCHEMA)
    except NotCompilable as exc:
        log.info("preprocessing not compiled: %s", exc)
        return None
    except Exception as exc:  # noqa: BLE001 - serve the pipeline itself
        log.warning("compiling the preprocessing failed: %s: %s", type(exc).__name__, exc)
        return None
    problem = verify(preprocessing, pipeline, reference)
    if problem is not None:
        log.warning("the compiled preprocessing disagrees with the pipeline (%s): not using it", problem)
        return None
    return preprocessing


def _batch_problem(pipeline: Any, reference: pd.DataFrame, rows: int = 16) -> str | None:
    """None when scoring rows together gives each row its own answer, else what differs."""
    sample = reference[reference.notna().all(axis=1)].head(rows)
    if len(sample) < 2:
        return None
    try:
        together = np.asarray(pipeline.predict_proba(sample))[:, 1]
        alone = np.array([pipeline.predict_proba(sample.iloc[[i]])[0, 1] for i in range(len(sample))])
    except Exception as exc:  # noqa: BLE001 - the smoke test already passed: treat as not batchable
        return f"scoring rows together failed ({type(exc).__name__})"
    if not np.allclose(together, alone, rtol=0, atol=1e-9):
        return "its answer for a row changes with the other rows of a call"
    return None


class NoModel(LookupError):
    """No model to serve and no fallback wanted (class mode: a learner without a usable `@production`)."""


class ModelManager:
    """Holds the served model and keeps it in step with the registry alias.

    `fallback=False` (class mode, a learner's own model): never trains a fallback model; `model` raises
    `NoModel` (with the reason) while the alias has no version that loads.
    """

    def __init__(self, settings: Settings, alias: str | None = None, fallback: bool = True) -> None:
        self.settings = settings
        self.alias = alias or settings.api_alias
        self.fallback = fallback
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
    def loaded(self) -> LoadedModel | None:
        """The model serving now, if one is loaded (never loads)."""
        return self._model

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
        """Rows used to check the compiled predictor against the pipeline (the API's input table): course
        rows, generated rows and rows with independently drawn fields."""
        if self._reference is None:
            from workbench.core.data import generate_loan_data, load_course_data

            try:
                course = load_course_data()
            except (OSError, ValueError):
                course = generate_loan_data()
            odd = generate_loan_data(200, seed=99)
            known = pd.concat([course.head(300), odd], ignore_index=True)[list(FEATURES)]
            records = known.astype(object).where(known.notna(), None).to_dict("records")
            self._reference = as_frame(records + generated_rows())
        return self._reference

    def smoke_rows(self) -> pd.DataFrame:
        """Valid, complete applications every served model must score (the smoke test)."""
        from workbench.core.api_client import EXAMPLE_APPLICATION

        complete = self.reference().dropna().head(20)
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
            if current is None and self.fallback:
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
            if current is None and self.fallback:
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
        elif self.refused is not None:
            reason = f"version {self.refused.version} of '@{self.alias}' was refused: {self.refused.message}"
        else:
            reason = f"no version of '@{self.alias}' could be loaded"
        if not self.fallback:
            raise NoModel(reason)
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
        compiled, serving, preprocessing = choose_serving(pipeline, self.reference())
        return LoadedModel(
            pipeline=pipeline,
            compiled=compiled,
            preprocessing=preprocessing,
            name=self.settings.model_name,
            version=version,
            alias=self.alias,
            run_id=mv.run_id,
            source="registry",
            source_detail=f"models:/{self.settings.model_name}@{self.alias} (version {version})",
            metrics=metrics,
            serving=serving,
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
        compiled, serving, _ = choose_serving(result.pipeline, self.reference())
        return LoadedModel(
            pipeline=result.pipeline,
            compiled=compiled,
            serving=serving,
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
