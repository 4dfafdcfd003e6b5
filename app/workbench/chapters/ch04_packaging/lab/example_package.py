"""The example package: build (python -m build) and test (pytest --junitxml) for real."""

from __future__ import annotations

import contextlib
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

import pandas as pd

from workbench.chapters.ch04_packaging.lab.serialization import COPY_IGNORE, PACKAGE_DIR, PackagingError
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings, get_settings

# --------------------------------------------------------------------------------------------
# The example package: build (python -m build) and test (pytest --junitxml) for real
# --------------------------------------------------------------------------------------------


def package_source(settings: Settings | None = None) -> Path:
    """The example package in the repository (read only: builds happen on a copy)."""
    return (settings or get_settings()).repo_root / PACKAGE_DIR


def package_dir(settings: Settings, learner: str) -> Path:
    """The learner's build folder: source/, dist/, site/, reports/ (not created here)."""
    return records_for(settings, learner).workspace("package")


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
        list(command),
        cwd=cwd,
        env=dict(env or os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
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
            ],
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
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(tests_dir),
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit2",
        f"--junitxml={junit}",
        "-q",
        *extra_args,
    ]
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
        return failed(translate("packaging.check_no_wheel", ctx.lang))
    junit = dest / "reports" / "junit.xml"
    if not junit.is_file():
        return failed(translate("packaging.check_no_report", ctx.lang))
    try:
        cases = parse_junit(junit)
    except PackagingError as exc:
        return failed(exc.message(ctx.lang))
    broken = [c for c in cases if c.outcome in ("failed", "error")]
    evidence = {"wheel": wheels[-1].name, "tests": len(cases), "failed": len(broken)}
    if not cases:
        return failed(translate("packaging.check_no_tests", ctx.lang), evidence=evidence)
    if broken:
        names = ", ".join(c.name for c in broken[:3])
        return failed(translate("packaging.check_failures", ctx.lang, n=len(broken), names=names), evidence=evidence)
    detail = translate("packaging.check_built_ok", ctx.lang, wheel=wheels[-1].name, n=len(cases))
    return passed(detail, evidence=evidence)
