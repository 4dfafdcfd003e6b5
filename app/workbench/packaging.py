"""Chapter IV: serialization formats compared, the example package built and tested for real, and the
environment the workbench runs in (installed packages vs requirements, prefixes, paths, variables).

`build_package(dest)` and `run_package_tests(dest)` are reused by the CI/CD lab (chapter VIII): they
copy `examples/loan_model_package` to `dest/source`, run `python -m build` into `dest/dist`, install the
wheel into `dest/site` and run its pytest tests with a JUnit XML report in `dest/reports`. Nothing is
ever written inside the repository, and nothing a learner uploads is ever unpickled: the `__reduce__`
demonstration unpickles bytes the lab itself just made from a harmless object.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.exercises import CheckContext, CheckResult
from workbench.i18n import LocalizedError, translate
from workbench.learner_files import read_json, write_json
from workbench.settings import Settings, get_settings

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
    return settings.learner_dir(learner) / "serialization"


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
    """The types the workbench approves in its own scikit-learn pipelines (see workbench.tracking)."""
    from workbench.tracking import TRUSTED_TYPES

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
        [{"fmt": r.fmt, "size": r.size, "save_seconds": r.save_seconds, "load_seconds": r.load_seconds,
          "identical": r.identical, "untrusted": list(r.untrusted)} for r in rows],
    )  # fmt: skip
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


def ratio_answer_path(settings: Settings, learner: str) -> Path:
    """Where the learner's reported compression ratio is saved."""
    return serialization_dir(settings, learner) / "compression_answer.json"


def save_ratio_answer(settings: Settings, learner: str, percent: float) -> None:
    """Save the size ratio (joblib compress=9 / compress=0, in %) the learner read from the table."""
    write_json(ratio_answer_path(settings, learner), {"percent": float(percent), "at": time.time()})


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
        return CheckResult(False, (translate("packaging.check_no_files", ctx.lang),))
    answer = read_json(ratio_answer_path(ctx.settings, ctx.learner))
    if not isinstance(answer, dict) or not isinstance(answer.get("percent"), int | float):
        return CheckResult(False, (translate("packaging.check_no_ratio", ctx.lang),))
    given = float(answer["percent"])
    evidence = {"given": given, "actual": round(actual, 2)}
    if abs(given - actual) <= tolerance:
        detail = translate("packaging.check_ratio_ok", ctx.lang, given=given, actual=actual)
        return CheckResult(True, detail=detail, evidence=evidence)
    return CheckResult(False, (translate("packaging.check_ratio_off", ctx.lang, given=given, tolerance=tolerance),),
                       evidence=evidence)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The example package: build (python -m build) and test (pytest --junitxml) for real
# --------------------------------------------------------------------------------------------


def package_source(settings: Settings | None = None) -> Path:
    """The example package in the repository (read only: builds happen on a copy)."""
    return (settings or get_settings()).repo_root / PACKAGE_DIR


def package_dir(settings: Settings, learner: str) -> Path:
    """The learner's build folder: source/, dist/, site/, reports/ (not created here)."""
    return settings.learner_dir(learner) / "package"


def package_files(source: Path) -> pd.DataFrame:
    """The files of the package source (path, size in bytes), caches and build outputs left out."""
    rows = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(
            part in ("build", "dist", "__pycache__", ".pytest_cache") or part.endswith(".egg-info")
            for part in rel.parts
        ):
            rows.append({"path": rel.as_posix(), "bytes": path.stat().st_size})
    return pd.DataFrame(rows, columns=["path", "bytes"])


def backend_available() -> bool:
    """True when this environment can build the package without downloading anything (`--no-isolation`).

    setuptools builds wheels by itself from version 70.1; older versions need the `wheel` package.
    """
    try:
        version = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    major, minor = (int(p) for p in re.findall(r"\d+", version)[:2])
    if (major, minor) >= (70, 1):
        return True
    try:
        metadata.version("wheel")
    except metadata.PackageNotFoundError:
        return False
    return major >= 61


def _run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    on_line: Callable[[str], None] | None = None,
) -> tuple[int, str]:
    """Run a command in its own process group, streaming its output; the whole group is killed on timeout."""
    import threading

    proc = subprocess.Popen(
        list(command), cwd=cwd, env=dict(env or os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # ends when the process (or the timer) closes the pipe
            lines.append(line.rstrip("\n"))
            if on_line is not None:
                on_line(lines[-1])
        returncode = proc.wait()
    finally:
        timer.cancel()
    if timed_out.is_set():
        lines.append(f"[stopped after {timeout:.0f} s]")
    return returncode, "\n".join(lines)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@dataclass(frozen=True)
class BuildResult:
    """The outcome of `python -m build` on a copy of the package."""

    dest: Path
    command: list[str]
    returncode: int
    log: str
    seconds: float
    isolated: bool
    wheel: Path | None
    sdist: Path | None

    @property
    def ok(self) -> bool:
        """True when the build exited with 0 and produced both files."""
        return self.returncode == 0 and self.wheel is not None and self.sdist is not None


def build_command(dest: Path, isolated: bool) -> list[str]:
    """`python -m build --sdist --wheel --outdir dest/dist [--no-isolation] dest/source`."""
    command = [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dest / "dist")]
    return [*command, *([] if isolated else ["--no-isolation"]), str(dest / "source")]


def build_package(
    dest: Path,
    source: Path | None = None,
    *,
    isolation: bool | None = None,
    timeout: float = 300,
    on_line: Callable[[str], None] | None = None,
) -> BuildResult:
    """Copy the package to `dest/source` and build its sdist and wheel into `dest/dist`.

    Args:
        dest: the build folder (its source/ and dist/ are replaced).
        source: the package to build (default: examples/loan_model_package).
        isolation: True builds in a fresh environment (pip fetches setuptools from the index); False
            uses this environment's setuptools (`--no-isolation`, offline); None picks offline when possible.
        timeout: seconds before the build is stopped.
        on_line: receives each line of build output as it comes.
    """
    source = source or package_source()
    isolated = (not backend_available()) if isolation is None else isolation
    for sub in ("source", "dist"):
        shutil.rmtree(dest / sub, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, dest / "source", ignore=shutil.ignore_patterns(*COPY_IGNORE))
    command = build_command(dest, isolated)
    start = time.perf_counter()
    returncode, log = _run(command, dest, _clean_env(), timeout, on_line)
    seconds = time.perf_counter() - start
    wheels = sorted((dest / "dist").glob("*.whl"))
    sdists = sorted((dest / "dist").glob("*.tar.gz"))
    return BuildResult(
        dest,
        command,
        returncode,
        log,
        seconds,
        isolated,
        wheels[-1] if wheels else None,
        sdists[-1] if sdists else None,
    )


def build_shell_command(isolated: bool) -> str:
    """The build as a learner types it in the package folder."""
    return "python -m pip install build\npython -m build --sdist --wheel --outdir dist" + (
        "" if isolated else " --no-isolation"
    )


@dataclass(frozen=True)
class ArchiveEntry:
    """One file inside a wheel or an sdist."""

    name: str
    size: int


def archive_contents(path: Path) -> list[ArchiveEntry]:
    """The files of a wheel (a zip) or an sdist (a .tar.gz), read without extracting anything.

    Raises:
        PackagingError: not a wheel or an sdist, or unreadable.
    """
    try:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as archive:
                return [ArchiveEntry(i.filename, i.file_size) for i in archive.infolist() if not i.is_dir()]
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path, "r:gz") as archive:
                return [ArchiveEntry(m.name, m.size) for m in archive.getmembers() if m.isfile()]
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise PackagingError("error_archive", name=path.name, error=str(exc)) from exc
    raise PackagingError("error_archive", name=path.name, error="not a .whl or .tar.gz")


@dataclass(frozen=True)
class TestCase:
    """One test of a JUnit XML report."""

    __test__ = False  # not a pytest test class

    classname: str
    name: str
    seconds: float
    outcome: str  # passed | failed | error | skipped
    message: str = ""


@dataclass(frozen=True)
class TestReport:
    """The outcome of pytest on the installed package, with its parsed JUnit report."""

    __test__ = False

    command: list[str]
    returncode: int
    log: str
    junit_path: Path
    cases: tuple[TestCase, ...] = ()
    seconds: float = 0.0
    install_log: str = ""
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def tests(self) -> int:
        """Number of tests in the report."""
        return len(self.cases)

    def count(self, outcome: str) -> int:
        """Number of tests with this outcome."""
        return sum(1 for c in self.cases if c.outcome == outcome)

    @property
    def ok(self) -> bool:
        """True when at least one test ran and none failed or errored."""
        return self.tests > 0 and self.count("failed") == 0 and self.count("error") == 0


def parse_junit(path: Path) -> tuple[TestCase, ...]:
    """The test cases of a JUnit XML file (pytest's `--junitxml`), with their outcome and message.

    Raises:
        PackagingError: the file is missing or is not valid XML.
    """
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise PackagingError("error_junit", error=str(exc)) from exc
    cases = []
    for case in root.iter("testcase"):
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            child = case.find(tag)
            if child is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                lines = (child.get("message") or child.text or "").strip().splitlines()
                message = lines[0][:300] if lines else ""
                break
        cases.append(
            TestCase(case.get("classname", ""), case.get("name", ""), float(case.get("time") or 0), outcome, message)
        )
    return tuple(cases)


def junit_table(report: TestReport, lang: str) -> pd.DataFrame:
    """The JUnit report as a table: test, outcome, time, message."""
    return pd.DataFrame(
        {
            translate("packaging.col_test", lang): [f"{c.classname}::{c.name}" for c in report.cases],
            translate("packaging.col_outcome", lang): [
                translate(f"packaging.outcome_{c.outcome}", lang) for c in report.cases
            ],  # fmt: skip
            translate("packaging.col_seconds", lang): [round(c.seconds, 3) for c in report.cases],
            translate("packaging.col_message", lang): [c.message for c in report.cases],
        }
    )


def run_package_tests(
    dest: Path,
    wheel: Path | None = None,
    tests_dir: Path | None = None,
    *,
    extra_args: Sequence[str] = (),
    timeout: float = 300,
    on_line: Callable[[str], None] | None = None,
) -> TestReport:
    """Install the built wheel into `dest/site` and run the package's tests against it with a JUnit report.

    Args:
        dest: the build folder of `build_package`.
        wheel: the wheel to test (default: the newest in dest/dist).
        tests_dir: the tests (default: dest/source/tests).
        extra_args: more pytest arguments (e.g. ["-k", "predict"]).
        timeout: seconds before pytest is stopped.
        on_line: receives each line of pytest output.

    Raises:
        PackagingError: no wheel to test, or pip could not install it.
    """
    wheels = sorted((dest / "dist").glob("*.whl"))
    wheel = wheel or (wheels[-1] if wheels else None)
    if wheel is None or not wheel.is_file():
        raise PackagingError("error_no_wheel")
    tests_dir = tests_dir or dest / "source" / "tests"
    site, reports = dest / "site", dest / "reports"
    shutil.rmtree(site, ignore_errors=True)
    reports.mkdir(parents=True, exist_ok=True)
    junit = reports / "junit.xml"
    junit.unlink(missing_ok=True)
    env = _clean_env()
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    code, install_log = _run(install, dest, env, timeout)
    if code != 0:
        raise PackagingError("error_install", log=install_log[-800:])
    env["PYTHONPATH"] = str(site)  # the installed wheel, not the source tree, is what gets tested
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the package's tests need no plugin of this environment
    command = [sys.executable, "-m", "pytest", str(tests_dir), "-p", "no:cacheprovider", "-o", "junit_family=xunit2",
               f"--junitxml={junit}", "-q", *extra_args]  # fmt: skip
    start = time.perf_counter()
    returncode, log = _run(command, dest, env, timeout, on_line)
    seconds = time.perf_counter() - start
    cases = parse_junit(junit) if junit.is_file() else ()
    return TestReport(command, returncode, log, junit, cases, seconds, install_log)


def test_shell_command() -> str:
    """The install and test steps as a learner types them."""
    return (
        "python -m pip install dist/loan_model-0.1.0-py3-none-any.whl\n"
        "python -m pip install pytest\n"
        "python -m pytest tests --junitxml=reports/junit.xml"
    )


JUNIT_CODE = """import xml.etree.ElementTree as ET

root = ET.parse("reports/junit.xml").getroot()
for case in root.iter("testcase"):
    failed = case.find("failure") is not None or case.find("error") is not None
    print(case.get("classname"), case.get("name"), case.get("time"), "FAILED" if failed else "ok")
"""


def check_package_built(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's build folder holds a wheel and a JUnit report with tests and no failure."""
    dest = package_dir(ctx.settings, ctx.learner)
    wheels = sorted((dest / "dist").glob("*.whl"))
    if not wheels:
        return CheckResult(False, (translate("packaging.check_no_wheel", ctx.lang),))
    junit = dest / "reports" / "junit.xml"
    if not junit.is_file():
        return CheckResult(False, (translate("packaging.check_no_report", ctx.lang),))
    try:
        cases = parse_junit(junit)
    except PackagingError as exc:
        return CheckResult(False, (exc.message(ctx.lang),))
    failed = [c for c in cases if c.outcome in ("failed", "error")]
    evidence = {"wheel": wheels[-1].name, "tests": len(cases), "failed": len(failed)}
    if not cases:
        return CheckResult(False, (translate("packaging.check_no_tests", ctx.lang),), evidence=evidence)
    if failed:
        names = ", ".join(c.name for c in failed[:3])
        return CheckResult(False, (translate("packaging.check_failures", ctx.lang, n=len(failed), names=names),),
                           evidence=evidence)  # fmt: skip
    detail = translate("packaging.check_built_ok", ctx.lang, wheel=wheels[-1].name, n=len(cases))
    return CheckResult(True, detail=detail, evidence=evidence)


# --------------------------------------------------------------------------------------------
# The environment: installed packages vs requirements, prefixes, paths, variables (read only)
# --------------------------------------------------------------------------------------------


def canonical(name: str) -> str:
    """A distribution name normalised as pip compares them (`Scikit_Learn` → `scikit-learn`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> dict[str, str]:
    """Every distribution installed in this environment: canonical name → version."""
    out = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(canonical(name), dist.version)
    return dict(sorted(out.items()))


REQUIREMENT_STATUSES = ("pinned_ok", "pinned_differs", "range_ok", "range_violated", "unpinned", "missing", "other")


def compare_requirements(text: str, installed: Mapping[str, str]) -> pd.DataFrame:
    """Each line of a requirements file against the installed versions.

    Returns:
        A table with columns line, package, required, installed, status (one of REQUIREMENT_STATUSES):
        `other` is an option or include line (`-e .`, `-r file`) that names no single package.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    rows = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            rows.append({"line": line, "package": "", "required": "", "installed": "", "status": "other"})
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            rows.append({"line": line, "package": "", "required": "", "installed": "", "status": "other"})
            continue
        name = canonical(req.name)
        version = installed.get(name)
        spec = str(req.specifier)
        pinned = len(req.specifier) == 1 and next(iter(req.specifier)).operator in ("==", "===")
        if version is None:
            status = "missing"
        elif not spec:
            status = "unpinned"
        elif req.specifier.contains(version, prereleases=True):
            status = "pinned_ok" if pinned else "range_ok"
        else:
            status = "pinned_differs" if pinned else "range_violated"
        rows.append({"line": line, "package": name, "required": spec, "installed": version or "", "status": status})
    return pd.DataFrame(rows, columns=["line", "package", "required", "installed", "status"])


def indirect_packages(requirements: pd.DataFrame, installed: Mapping[str, str]) -> list[str]:
    """Installed distributions the requirements do not name (mostly dependencies of dependencies)."""
    named = set(requirements["package"])
    return [name for name in installed if name not in named]


def freeze_text(installed: Mapping[str, str]) -> str:
    """What `pip freeze` would print for these distributions (name==version, one per line)."""
    return "\n".join(f"{name}=={version}" for name, version in installed.items())


@dataclass(frozen=True)
class PythonEnvironment:
    """Where this Python lives and whether it is a virtual environment."""

    executable: str
    version: str
    prefix: str
    base_prefix: str
    in_venv: bool
    site_packages: tuple[str, ...]
    sys_path: tuple[str, ...]


def python_environment() -> PythonEnvironment:
    """The running interpreter: sys.prefix vs sys.base_prefix tells a venv apart."""
    import site
    import sysconfig

    site_packages = tuple(dict.fromkeys([sysconfig.get_paths()["purelib"], *site.getsitepackages()]))
    return PythonEnvironment(
        executable=sys.executable,
        version=sys.version.split()[0],
        prefix=sys.prefix,
        base_prefix=sys.base_prefix,
        in_venv=sys.prefix != sys.base_prefix,
        site_packages=site_packages,
        sys_path=tuple(p for p in sys.path if p),
    )


SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSW|KEY|CREDENTIAL|AUTH|COOKIE|PRIVATE", re.IGNORECASE)
SHOWN_VARIABLES = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONDONTWRITEBYTECODE", "LOAN_MODEL_PATH")
HIDDEN = "••••••"


def mask_value(name: str, value: str) -> str:
    """The value with secrets hidden: whole value for secret-looking names, `user:password@` in URLs."""
    if SECRET_NAME.search(name):
        return HIDDEN
    return re.sub(r"(?<=://)[^/@\s]+@", f"{HIDDEN}@", value)


def environment_variables(env: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The variables that matter to a Python app: PATH & co, every WORKBENCH_*, MLFLOW_TRACKING_URI.

    Returns:
        A table name, value (secrets masked, unset ones shown as empty), set (bool).
    """
    env = os.environ if env is None else env
    names = [*SHOWN_VARIABLES, "MLFLOW_TRACKING_URI", *sorted(k for k in env if k.startswith("WORKBENCH_"))]
    rows = [{"name": n, "value": mask_value(n, env.get(n, "")), "set": n in env} for n in dict.fromkeys(names)]
    return pd.DataFrame(rows, columns=["name", "value", "set"])


def path_entries(env: Mapping[str, str] | None = None, prefix: str | None = None) -> pd.DataFrame:
    """The folders of PATH in search order, flagging the ones inside this environment's prefix."""
    env = os.environ if env is None else env
    prefix = prefix or sys.prefix
    entries = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    return pd.DataFrame(
        {
            "order": range(1, len(entries) + 1),
            "folder": entries,
            "in_this_env": [Path(p).resolve().is_relative_to(Path(prefix).resolve()) for p in entries],
            "has_python": [(Path(p) / "python").exists() or (Path(p) / "python3").exists() for p in entries],
        }
    )


def model_path_demo(site: Path, override: str | None = None, timeout: float = 60) -> tuple[str, str]:
    """Ask the installed package where its model is, with LOAN_MODEL_PATH set to `override` or unset.

    Returns:
        (the shell command, what it printed).

    Raises:
        PackagingError: the package is not installed in `site` (build and test it first).
    """
    if not (site / "loan_model" / "config.py").is_file():
        raise PackagingError("error_not_installed")
    env = _clean_env()
    env["PYTHONPATH"] = str(site)
    env.pop("LOAN_MODEL_PATH", None)
    if override:
        env["LOAN_MODEL_PATH"] = override
    code = "import loan_model.config as c; print(c.MODEL_PATH)"
    _, output = _run([sys.executable, "-c", code], site, env, timeout)
    prefix = f"LOAN_MODEL_PATH={override} " if override else ""
    return f'{prefix}python -c "{code}"', output.strip()
