"""The README's promises: its two commands, .ci/run calling the test command, documented settings."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _command_after(heading: str) -> str:
    section = README.split(f"## {heading}", 1)[1]
    return re.search(r"```bash\n(.+?)\n```", section, re.S).group(1).strip()


def test_run_command_installs_and_starts_the_app() -> None:
    command = _command_after("Run the app")
    assert command == "pip install -r requirements.txt && streamlit run app/Home.py"


def test_ci_runs_the_readme_test_command() -> None:
    command = _command_after("Run the tests")
    assert "pytest" in command
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines()


def test_every_setting_is_documented() -> None:
    settings_code = (REPO_ROOT / "app" / "workbench" / "core" / "settings.py").read_text(encoding="utf-8")
    variables = set(re.findall(r'"((?:WORKBENCH|MLFLOW)_[A-Z_]+)"', settings_code))
    assert variables
    missing = {v for v in variables if f"`{v}`" not in README}
    assert missing == set()


def test_requirements_are_pinned_and_end_with_the_package() -> None:
    lines = [
        line.strip()
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[-1] == "-e ."
    assert all("==" in line for line in lines[:-1]), [line for line in lines if "==" not in line]
