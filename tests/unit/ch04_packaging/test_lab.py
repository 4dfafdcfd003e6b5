"""Chapter IV core: serialization formats, the real build and tests of the example package, the environment."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from workbench.chapters.ch04_packaging import lab as pk
from workbench.core.data import generate_loan_data, split_features_target
from workbench.core.exercises import CheckContext
from workbench.core.modeling import build_pipeline
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


@pytest.fixture(scope="module")
def fitted():
    X, y = split_features_target(generate_loan_data(150, seed=9))
    return build_pipeline("decision_tree", {"max_depth": 3}).fit(X, y), X


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[pk.BuildResult, pk.TestReport]:
    """The example package built for real (python -m build) and tested (pytest on the installed wheel)."""
    dest = tmp_path_factory.mktemp("build") / "package"
    lines: list[str] = []
    build = pk.build_package(dest, on_line=lines.append)
    assert build.ok, build.log[-2000:]
    assert lines and lines[-1].startswith("Successfully built")
    return build, pk.run_package_tests(dest)


# ----------------------------------------------------------------------------------------------
# Serialization
# ----------------------------------------------------------------------------------------------


def test_every_format_reloads_to_identical_predictions(tmp_path, fitted) -> None:
    pipeline, X = fitted
    rows = pk.compare_serializers(pipeline, X, tmp_path)
    assert [r.fmt for r in rows] == list(pk.SERIALIZERS)
    assert all(r.identical and r.error is None and r.size > 0 and r.max_abs_diff <= 1e-12 for r in rows)
    size = {r.fmt: r.size for r in rows}
    assert size["joblib-9"] < size["joblib-3"] <= size["joblib-0"]
    assert size["skops-zip"] < size["skops"]
    skops = next(r for r in rows if r.fmt == "skops")
    assert set(skops.untrusted) == {"numpy.dtype", "sklearn.tree._tree.Tree"}
    assert next(r for r in rows if r.fmt == "pickle").untrusted == ()
    assert pk.model_file(tmp_path, "joblib-3").name == "model-joblib-3.joblib"
    assert (tmp_path / "report.json").is_file()


def test_a_parallel_random_forest_reloads_to_the_same_predictions(tmp_path) -> None:
    X, y = split_features_target(generate_loan_data(150, seed=9))
    forest = build_pipeline("random_forest", {"n_estimators": 20}).fit(X, y)  # n_jobs=-1
    rows = pk.compare_serializers(forest, X, tmp_path, formats=("pickle", "joblib-3"))
    assert all(r.identical and r.max_abs_diff <= 1e-12 for r in rows)


def test_skops_refuses_types_that_are_not_trusted(tmp_path, fitted) -> None:
    pipeline, X = fitted
    rows = pk.compare_serializers(pipeline, X, tmp_path, formats=("pickle", "skops"), trusted_types=("numpy.dtype",))
    pickled, skops = rows
    assert pickled.identical
    assert not skops.identical and skops.load_seconds is None
    assert "sklearn.tree._tree.Tree" in skops.error
    with pytest.raises(pk.PackagingError):
        pk.compare_serializers(pipeline, X, tmp_path, formats=("hdf5",))


def test_serialization_table_in_both_languages(tmp_path, fitted) -> None:
    pipeline, X = fitted
    rows = pk.compare_serializers(pipeline, X, tmp_path, formats=("pickle", "joblib-9"))
    table = pk.serialization_table(rows, "fr")
    assert list(table.columns)[:4] == ["Format", "Fichier", "Taille (ko)", "% de la taille pickle"]
    assert table.iloc[0, 3] == 100.0 and table.iloc[1, 0] == "joblib, compress=9"
    assert "Same predictions" in pk.serialization_table(rows, "en").columns


def test_serialization_code_runs(tmp_path, monkeypatch, fitted) -> None:
    pipeline, X = fitted
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(pk.serialization_code(), {"pipeline": pipeline, "X": X})
    assert {"model.pkl", "model-9.joblib", "model.skops", "model-zip.skops"} <= {p.name for p in tmp_path.iterdir()}
    assert "True" in out.getvalue() and "sklearn.tree._tree.Tree" in out.getvalue()


def test_reduce_demo_runs_code_with_pickle_and_nothing_with_skops() -> None:
    demo = pk.reduce_demo("fr")
    assert demo.printed.strip() == "Ce code s'exécute au chargement du fichier !"
    assert demo.loaded == "None"
    assert "STACK_GLOBAL" in demo.disassembly and "REDUCE" in demo.disassembly and "'print'" in demo.disassembly
    assert demo.skops_untrusted == ("workbench.chapters.ch04_packaging.lab.serialization.LoadTimeMessage",)
    assert demo.skops_refusal.startswith("UntrustedTypesFoundException")


def test_reduce_code_runs_until_skops_refuses() -> None:
    from skops.io.exceptions import UntrustedTypesFoundException

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(UntrustedTypesFoundException):
        exec(pk.REDUCE_CODE, {"__name__": "__main__"})
    assert "This code runs at load time!\nNone\n" in out.getvalue()
    assert "['__main__.LoadTimeMessage']" in out.getvalue()


def test_check_compression_ratio(fitted) -> None:
    settings = get_settings()
    assert "missing" in pk.check_compression_ratio(_ctx()).missing[0]
    pipeline, X = fitted
    folder = pk.serialization_dir(settings, "ana")
    pk.compare_serializers(pipeline, X, folder, formats=("joblib-0", "joblib-9"))
    assert "No answer saved" in pk.check_compression_ratio(_ctx()).missing[0]
    actual = pk.compression_ratio(folder)
    assert 0 < actual < 100
    pk.save_ratio_answer(settings, "ana", actual + 5)
    assert "more than 1.0 point" in pk.check_compression_ratio(_ctx()).missing[0]
    pk.save_ratio_answer(settings, "ana", round(actual, 1))
    result = pk.check_compression_ratio(_ctx("fr"))
    assert result.passed and result.evidence["actual"] == pytest.approx(actual, abs=0.01)


# ----------------------------------------------------------------------------------------------
# The example package
# ----------------------------------------------------------------------------------------------


def test_package_source_layout() -> None:
    files = set(pk.package_files(pk.package_source())["path"])
    expected = {
        "pyproject.toml",
        "MANIFEST.in",
        "README.md",
        "requirements.txt",
        "scripts/train_model.py",
        "src/loan_model/__init__.py",
        "src/loan_model/config.py",
        "src/loan_model/processing.py",
        "src/loan_model/predict.py",
        "src/loan_model/trained_models/model.skops",
        "src/loan_model/trained_models/model_info.json",
        "tests/test_predict.py",
        "tests/test_processing.py",
    }
    assert expected <= files
    assert not any("__pycache__" in f or ".egg-info" in f for f in files)


def test_build_makes_a_wheel_and_an_sdist_outside_the_repo(built) -> None:
    build, _ = built
    assert build.wheel.name == "loan_model-0.1.0-py3-none-any.whl"
    assert build.sdist.name == "loan_model-0.1.0.tar.gz"
    assert build.command[1:4] == ["-m", "build", "--sdist"] and ("--no-isolation" in build.command) != build.isolated
    assert not build.dest.is_relative_to(REPO_ROOT)
    assert (
        not list((REPO_ROOT / pk.PACKAGE_DIR).rglob("*.egg-info"))
        and not (REPO_ROOT / pk.PACKAGE_DIR / "dist").exists()
    )
    wheel = {e.name for e in pk.archive_contents(build.wheel)}
    assert {
        "loan_model/trained_models/model.skops",
        "loan_model/predict.py",
        "loan_model-0.1.0.dist-info/METADATA",
    } <= wheel
    assert not any(name.startswith("tests/") for name in wheel)
    sdist = {e.name for e in pk.archive_contents(build.sdist)}
    assert {
        "loan_model-0.1.0/tests/test_predict.py",
        "loan_model-0.1.0/MANIFEST.in",
        "loan_model-0.1.0/scripts/train_model.py",
    } <= sdist


def test_tests_run_against_the_installed_wheel(built) -> None:
    _, report = built
    assert report.ok and report.returncode == 0
    assert report.tests == 12 and report.count("passed") == 12
    assert report.junit_path.name == "junit.xml" and report.junit_path.parent.name == "reports"
    names = {c.name for c in report.cases}
    assert "test_the_model_file_ships_inside_the_package" in names
    assert "Successfully installed loan-model-0.1.0" in report.install_log
    table = pk.junit_table(report, "fr")
    assert list(table.columns) == ["Test", "Résultat", "Durée (s)", "Message"] and set(table["Résultat"]) == {"réussi"}


def test_failing_tests_are_reported(built, tmp_path) -> None:
    build, _ = built
    dest = tmp_path / "package"
    shutil.copytree(build.dest / "dist", dest / "dist")
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_extra.py").write_text(
        textwrap.dedent("""
        import pytest
        from loan_model import config

        def test_ok():
            assert config.THRESHOLD == 0.5

        def test_wrong():
            assert config.TRUSTED_TYPES == (), "approved after all"

        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass
    """)
    )
    report = pk.run_package_tests(dest, tests_dir=tests)
    assert not report.ok and report.returncode == 1
    outcomes = {c.name: c.outcome for c in report.cases}
    assert outcomes == {"test_ok": "passed", "test_wrong": "failed", "test_skipped": "skipped"}
    assert "approved after all" in next(c.message for c in report.cases if c.name == "test_wrong")


def test_run_tests_without_a_wheel(tmp_path) -> None:
    with pytest.raises(pk.PackagingError) as info:
        pk.run_package_tests(tmp_path)
    assert info.value.key == "error_no_wheel"


def test_a_broken_build_is_reported_not_raised(tmp_path) -> None:
    source = tmp_path / "broken"
    source.mkdir()
    (source / "pyproject.toml").write_text("[project\nname = ")
    result = pk.build_package(tmp_path / "out", source, isolation=False, timeout=120)
    assert not result.ok and result.returncode != 0 and result.wheel is None and result.log


def test_check_package_built(built) -> None:
    build, _ = built
    settings = get_settings()
    assert "No wheel" in pk.check_package_built(_ctx()).missing[0]
    dest = pk.package_dir(settings, "ana")
    shutil.copytree(build.dest / "dist", dest / "dist")
    assert "have not run" in pk.check_package_built(_ctx()).missing[0]
    shutil.copytree(build.dest / "reports", dest / "reports")
    result = pk.check_package_built(_ctx())
    assert result.passed and result.evidence == {"wheel": build.wheel.name, "tests": 12, "failed": 0}
    junit = dest / "reports" / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite><testcase classname="t" name="a"/>'
        '<testcase classname="t" name="b"><failure message="boom">trace</failure></testcase></testsuite></testsuites>'
    )
    result = pk.check_package_built(_ctx("fr"))
    assert not result.passed and "1 test échoue : b" in result.missing[0]
    junit.write_text("<testsuites>")
    assert not pk.check_package_built(_ctx()).passed


def test_parse_junit_outcomes(tmp_path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuite><testcase classname="c" name="ok" time="0.5"/>'
        '<testcase classname="c" name="bad"><failure message="assert 1 == 2">long trace</failure></testcase>'
        '<testcase classname="c" name="err"><error>ImportError: x\nmore</error></testcase>'
        '<testcase classname="c" name="skip"><skipped message="later"/></testcase></testsuite>'
    )
    cases = pk.parse_junit(path)
    assert [(c.name, c.outcome, c.message) for c in cases] == [
        ("ok", "passed", ""),
        ("bad", "failed", "assert 1 == 2"),
        ("err", "error", "ImportError: x"),
        ("skip", "skipped", "later"),
    ]
    assert cases[0].seconds == 0.5
    with pytest.raises(pk.PackagingError):
        pk.parse_junit(tmp_path / "missing.xml")


@pytest.mark.parametrize(
    "versions, expected",
    [
        ({"setuptools": "65.5.0"}, False),
        ({"setuptools": "65.5.0", "wheel": "0.45.1"}, True),
        ({"setuptools": "80.9.0"}, True),
        ({}, False),
    ],
)
def test_backend_available(monkeypatch, versions, expected) -> None:
    def version(name: str) -> str:
        if name not in versions:
            raise metadata.PackageNotFoundError(name)
        return versions[name]

    monkeypatch.setattr(metadata, "version", version)  # importlib.metadata, as the lab reads it
    assert pk.backend_available() is expected
    assert ("--no-isolation" in pk.build_shell_command(not expected)) is expected


def test_model_path_demo(built) -> None:
    build, _ = built
    site = build.dest / "site"
    command, output = pk.model_path_demo(site)
    assert output == str(site / "loan_model" / "trained_models" / "model.skops")
    assert command.startswith('python -c "import loan_model.config')
    command, output = pk.model_path_demo(site, "/srv/models/model.skops")
    assert output == "/srv/models/model.skops" and command.startswith("LOAN_MODEL_PATH=/srv/models/model.skops ")
    assert "LOAN_MODEL_PATH" not in os.environ
    with pytest.raises(pk.PackagingError):
        pk.model_path_demo(build.dest / "nowhere")


# ----------------------------------------------------------------------------------------------
# The environment
# ----------------------------------------------------------------------------------------------


def test_compare_requirements() -> None:
    installed = {"pandas": "3.0.6", "numpy": "2.4.6", "scikit-learn": "1.9.1", "requests": "2.34.2", "idna": "3.10"}
    text = textwrap.dedent("""
        # a comment
        pandas==3.0.6
        numpy==1.26.0   # pinned to an old one
        Scikit_Learn>=1.5,<2
        scipy>=1
        requests
        scikit-learn<1.0
        -e .
        not a requirement !
    """)
    table = pk.compare_requirements(text, installed)
    assert list(table["status"]) == [
        "pinned_ok",
        "pinned_differs",
        "range_ok",
        "missing",
        "unpinned",
        "range_violated",
        "other",
        "other",
    ]
    assert table.loc[2, "package"] == "scikit-learn" and table.loc[1, "installed"] == "2.4.6"
    assert pk.indirect_packages(table, installed) == ["idna"]
    assert pk.freeze_text({"a": "1", "b": "2"}) == "a==1\nb==2"


def test_installed_distributions_match_importlib() -> None:
    installed = pk.installed_distributions()
    assert installed["pandas"] == metadata.version("pandas") and installed["scikit-learn"] == metadata.version(
        "scikit-learn"
    )
    assert list(installed) == sorted(installed)
    repo_requirements = (REPO_ROOT / "requirements.txt").read_text()
    table = pk.compare_requirements(repo_requirements, installed)
    assert (table.loc[table["package"] == "pandas", "status"] == "pinned_ok").all()


def test_python_environment() -> None:
    env = pk.python_environment()
    assert env.executable == sys.executable and env.in_venv == (sys.prefix != sys.base_prefix)
    assert env.version == sys.version.split()[0] and env.site_packages


@pytest.mark.parametrize(
    "name, value, shown",
    [
        ("WORKBENCH_LANG", "fr", "fr"),
        ("WORKBENCH_API_TOKEN", "s3cret", pk.HIDDEN),
        ("DB_PASSWORD", "hunter2", pk.HIDDEN),
        ("MLFLOW_TRACKING_URI", "https://user:pw@mlflow.example/", f"https://{pk.HIDDEN}@mlflow.example/"),
        ("MLFLOW_TRACKING_URI", "sqlite:///tmp/m.db", "sqlite:///tmp/m.db"),
    ],
)
def test_mask_value(name, value, shown) -> None:
    assert pk.mask_value(name, value) == shown


def test_environment_variables_show_only_what_matters() -> None:
    env = {
        "PATH": "/venv/bin:/usr/bin",
        "WORKBENCH_STATE_DIR": "/state",
        "WORKBENCH_API_TOKEN": "s3cret",
        "AWS_SECRET_ACCESS_KEY": "xyz",
        "HOME": "/root",
    }
    table = pk.environment_variables(env).set_index("name")
    assert (
        table.loc["WORKBENCH_STATE_DIR", "value"] == "/state" and table.loc["WORKBENCH_API_TOKEN", "value"] == pk.HIDDEN
    )
    assert not table.loc["PYTHONPATH", "set"] and table.loc["PATH", "set"]
    assert "AWS_SECRET_ACCESS_KEY" not in table.index and "HOME" not in table.index
    assert "s3cret" not in table.to_string() and "xyz" not in table.to_string()


def test_path_entries(tmp_path) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").touch()
    table = pk.path_entries({"PATH": f"{venv_bin}{os.pathsep}/usr/bin"}, prefix=str(tmp_path / "venv"))
    assert list(table["folder"]) == [str(venv_bin), "/usr/bin"]
    assert list(table["in_this_env"]) == [True, False] and table.loc[0, "has_python"]
    assert isinstance(table, pd.DataFrame) and list(table["order"]) == [1, 2]


def test_nothing_is_written_into_the_repository() -> None:
    assert not list((REPO_ROOT / pk.PACKAGE_DIR).rglob("__pycache__"))
    assert not (REPO_ROOT / pk.PACKAGE_DIR / "build").exists()
    assert Path(pk.package_dir(get_settings(), "ana")).is_relative_to(get_settings().state_dir)
