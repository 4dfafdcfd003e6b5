"""Shared fixtures: every test gets its own state dir (progress db, MLflow store) in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from workbench.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the workbench at a fresh state dir and a fresh MLflow store for this test."""
    state = tmp_path / "state"
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(state))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{state / 'mlflow.db'}")
    monkeypatch.setenv("WORKBENCH_LEARNER", "test-learner")
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv("WORKBENCH_DATA", raising=False)
    get_settings.cache_clear()
    yield state
    get_settings.cache_clear()
