"""Serialization: pickle, joblib (compression 0, 3, 9), skops."""

from __future__ import annotations

import contextlib
import io
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import LocalizedError, translate
from workbench.core.learner_files import write_json
from workbench.core.records import records_for
from workbench.core.settings import Settings

PACKAGE_DIR = Path("examples") / "loan_model_package"
PACKAGE_NAME = "loan-model"
COPY_IGNORE = ("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.py[cod]")
SERIALIZERS: tuple[str, ...] = ("pickle", "joblib-0", "joblib-3", "joblib-9", "skops", "skops-zip")
EXTENSIONS = {"pickle": "pkl", "joblib": "joblib", "skops": "skops"}


class PackagingError(LocalizedError, RuntimeError):
    """An action the lab cannot do; `message(lang)` explains why in the learner's language."""

    namespace = "packaging"


# --------------------------------------------------------------------------------------------
# Serialization: pickle, joblib (compression 0, 3, 9), skops
# --------------------------------------------------------------------------------------------


def serialization_dir(settings: Settings, learner: str) -> Path:
    """The learner's folder of saved models (not created here)."""
    return records_for(settings, learner).workspace("serialization")


def model_file(folder: Path, fmt: str) -> Path:
    """File name of a model saved in format `fmt` (e.g. `model-joblib-3.joblib`)."""
    return folder / f"model-{fmt}.{EXTENSIONS[fmt.split('-')[0]]}"


@dataclass(frozen=True)
class SavedModel:
    """One format: file size, save and load times, and whether the reloaded model predicts the same."""

    fmt: str
    path: Path
    size: int
    save_seconds: float
    load_seconds: float | None
    identical: bool  # same predicted classes and probabilities within 1e-12
    untrusted: tuple[str, ...] = ()  # skops: the types it asked us to approve
    error: str | None = None  # why loading failed (skops refusing an unapproved type)
    max_abs_diff: float | None = None  # largest probability gap with the original model


def _dump(pipeline: Any, path: Path, fmt: str) -> None:
    kind, _, level = fmt.partition("-")
    if kind == "pickle":
        import pickle

        with path.open("wb") as handle:
            pickle.dump(pipeline, handle, protocol=pickle.HIGHEST_PROTOCOL)
    elif kind == "joblib":
        import joblib

        joblib.dump(pipeline, path, compress=int(level))
    else:
        import skops.io as sio

        sio.dump(pipeline, path, compression=zipfile.ZIP_DEFLATED if level == "zip" else zipfile.ZIP_STORED)


def _load(path: Path, fmt: str, trusted_types: Sequence[str]) -> tuple[Any, tuple[str, ...]]:
    """Load a file the lab itself just wrote (never a learner's upload)."""
    kind = fmt.split("-")[0]
    if kind == "pickle":
        import pickle

        with path.open("rb") as handle:
            return pickle.load(handle), ()  # our own file, written a moment ago
    if kind == "joblib":
        import joblib

        return joblib.load(path), ()
    import skops.io as sio

    untrusted = tuple(sio.get_untrusted_types(file=path))
    refused = sorted(set(untrusted) - set(trusted_types))
    if refused:
        raise PackagingError("error_untrusted", types=", ".join(refused))
    return sio.load(path, trusted=list(untrusted)), untrusted


def default_trusted_types() -> tuple[str, ...]:
    """The types the workbench approves in its own scikit-learn pipelines (see workbench.core.tracking)."""
    from workbench.core.safe_models import TRUSTED_TYPES

    return TRUSTED_TYPES


def compare_serializers(
    pipeline: Any,
    X: pd.DataFrame,
    folder: Path,
    formats: Sequence[str] = SERIALIZERS,
    trusted_types: Sequence[str] | None = None,
) -> list[SavedModel]:
    """Save the fitted `pipeline` in each format into `folder`, reload it, and compare its predictions on X.

    Raises:
        PackagingError: an unknown format.
    """
    import numpy as np

    if unknown := [f for f in formats if f not in SERIALIZERS]:
        raise PackagingError("error_format", formats=", ".join(unknown))
    trusted = default_trusted_types() if trusted_types is None else tuple(trusted_types)
    folder.mkdir(parents=True, exist_ok=True)
    expected = pipeline.predict_proba(X)
    rows = []
    for fmt in formats:
        path = model_file(folder, fmt)
        start = time.perf_counter()
        _dump(pipeline, path, fmt)
        saved = time.perf_counter() - start
        start = time.perf_counter()
        try:
            loaded, untrusted = _load(path, fmt, trusted)
        except PackagingError as exc:
            import skops.io as sio

            untrusted = tuple(sio.get_untrusted_types(file=path))
            rows.append(SavedModel(fmt, path, path.stat().st_size, saved, None, False, untrusted, str(exc)))
            continue
        load_seconds = time.perf_counter() - start
        # A random forest sums its trees in parallel threads: the order of the additions, hence the
        # last bits of a probability, may change between two calls of the very same model.
        reloaded = loaded.predict_proba(X)
        diff = float(np.max(np.abs(reloaded - expected))) if len(X) else 0.0
        same_classes = bool(np.array_equal(reloaded.argmax(axis=1), expected.argmax(axis=1)))
        identical = same_classes and diff <= 1e-12
        rows.append(SavedModel(fmt, path, path.stat().st_size, saved, load_seconds, identical, untrusted, None, diff))
    write_json(
        folder / "report.json",
        [
            {
                "fmt": r.fmt,
                "size": r.size,
                "save_seconds": r.save_seconds,
                "load_seconds": r.load_seconds,
                "identical": r.identical,
                "untrusted": list(r.untrusted),
            }
            for r in rows
        ],
    )
    return rows


def serialization_table(rows: Sequence[SavedModel], lang: str) -> pd.DataFrame:
    """The comparison as a table: format, size (kB), % of the pickle size, times, identical predictions."""
    pickle_size = next((r.size for r in rows if r.fmt == "pickle"), None)
    t = lambda key: translate(f"packaging.col_{key}", lang)  # noqa: E731
    return pd.DataFrame(
        {
            t("format"): [translate(f"packaging.fmt_{r.fmt.replace('-', '_')}", lang) for r in rows],
            t("file"): [r.path.name for r in rows],
            t("size_kb"): [round(r.size / 1024, 1) for r in rows],
            t("vs_pickle"): [round(100 * r.size / pickle_size, 1) if pickle_size else None for r in rows],
            t("save_ms"): [round(r.save_seconds * 1000, 1) for r in rows],
            t("load_ms"): [None if r.load_seconds is None else round(r.load_seconds * 1000, 1) for r in rows],
            t("identical"): [r.identical for r in rows],
            t("max_gap"): [r.max_abs_diff for r in rows],
            t("untrusted"): [", ".join(r.untrusted) for r in rows],
        }
    )


def serialization_code() -> str:
    """Plain Python saving and reloading a model in each format."""
    return """import pickle
import time
import zipfile
from pathlib import Path

import joblib
import skops.io as sio

# pipeline: the course pipeline, fitted (chapter I); X: some applications to predict
for name, save in {
    "model.pkl": lambda p: pickle.dump(pipeline, open(p, "wb")),
    "model-0.joblib": lambda p: joblib.dump(pipeline, p, compress=0),
    "model-3.joblib": lambda p: joblib.dump(pipeline, p, compress=3),
    "model-9.joblib": lambda p: joblib.dump(pipeline, p, compress=9),
    "model.skops": lambda p: sio.dump(pipeline, p),
    "model-zip.skops": lambda p: sio.dump(pipeline, p, compression=zipfile.ZIP_DEFLATED),
}.items():
    start = time.perf_counter()
    save(name)
    print(f"{name:16} {Path(name).stat().st_size / 1024:8.1f} kB  {time.perf_counter() - start:.3f} s")

reloaded = joblib.load("model-9.joblib")             # only ever load files YOU wrote
print((reloaded.predict_proba(X) == pipeline.predict_proba(X)).all())

unknown = sio.get_untrusted_types(file="model.skops")
print(unknown)                                         # review this list before trusting it
model = sio.load("model.skops", trusted=unknown)
"""


class LoadTimeMessage:
    """A harmless object whose `__reduce__` tells pickle to call `print(message)` when it is loaded.

    A malicious file would name `os.system` or `shutil.rmtree` instead of `print`.
    """

    def __init__(self, message: str) -> None:
        self.message = message

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (print, (self.message,))


@dataclass(frozen=True)
class ReduceDemo:
    """What pickle and skops each do with the same object."""

    pickle_size: int
    disassembly: str  # pickletools.dis of the bytes: the GLOBAL print and the REDUCE that calls it
    printed: str  # what ran at load time
    loaded: str  # repr of what pickle.loads returned
    skops_untrusted: tuple[str, ...]
    skops_refusal: str  # the exception skops raised instead of building the object


def reduce_demo(lang: str) -> ReduceDemo:
    """Pickle a `LoadTimeMessage` made here, unpickle it (the message prints), then try the same with skops."""
    import pickle
    import pickletools

    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    payload = pickle.dumps(LoadTimeMessage(translate("packaging.reduce_message", lang)), protocol=4)
    listing = io.StringIO()
    pickletools.dis(payload, out=listing)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        loaded = pickle.loads(payload)  # bytes made two lines above, from our own harmless object
    data = sio.dumps(LoadTimeMessage("skops"))
    untrusted = tuple(sio.get_untrusted_types(data=data))
    try:
        sio.loads(data)
        refusal = ""
    except UntrustedTypesFoundException as exc:
        refusal = f"{type(exc).__name__}: {exc}"
    return ReduceDemo(len(payload), listing.getvalue(), captured.getvalue(), repr(loaded), untrusted, refusal)


REDUCE_CODE = """import pickle


class LoadTimeMessage:
    def __init__(self, message):
        self.message = message

    def __reduce__(self):                  # "to rebuild me, call print(message)"
        return (print, (self.message,))    # an attacker writes os.system, "rm -rf ..." here


payload = pickle.dumps(LoadTimeMessage("This code runs at load time!"))
obj = pickle.loads(payload)                # prints the message: loading RAN code
print(obj)                                 # None: what print returned, not a model

import skops.io as sio

data = sio.dumps(LoadTimeMessage("skops"))
print(sio.get_untrusted_types(data=data))  # ['__main__.LoadTimeMessage']
sio.loads(data)                            # UntrustedTypesFoundException: nothing is built or run
"""


RATIO_ANSWER_KEY = "ch04_packaging/compression_answer.json"  # the compression ratio the learner reported


def save_ratio_answer(settings: Settings, learner: str, percent: float) -> None:
    """Save the size ratio (joblib compress=9 / compress=0, in %) the learner read from the table."""
    records_for(settings, learner).put_json(RATIO_ANSWER_KEY, {"percent": float(percent), "at": time.time()})


def compression_ratio(folder: Path) -> float | None:
    """Size of the joblib file saved with compress=9 as a % of the one saved with compress=0 (None if missing)."""
    small, big = model_file(folder, "joblib-9"), model_file(folder, "joblib-0")
    if not (small.is_file() and big.is_file()) or big.stat().st_size == 0:
        return None
    return 100 * small.stat().st_size / big.stat().st_size


def check_compression_ratio(ctx: CheckContext, tolerance: float = 1.0) -> CheckResult:
    """Passed when the learner saved the model with joblib compress 0 and 9 and reported the real size ratio."""
    folder = serialization_dir(ctx.settings, ctx.learner)
    actual = compression_ratio(folder)
    if actual is None:
        return failed(translate("packaging.check_no_files", ctx.lang))
    answer = records_for(ctx.settings, ctx.learner).get_json(RATIO_ANSWER_KEY)
    if not isinstance(answer, dict) or not isinstance(answer.get("percent"), int | float):
        return failed(translate("packaging.check_no_ratio", ctx.lang))
    given = float(answer["percent"])
    evidence = {"given": given, "actual": round(actual, 2)}
    if abs(given - actual) <= tolerance:
        detail = translate("packaging.check_ratio_ok", ctx.lang, given=given, actual=actual)
        return passed(detail, evidence=evidence)
    return failed(translate("packaging.check_ratio_off", ctx.lang, given=given, tolerance=tolerance), evidence=evidence)
