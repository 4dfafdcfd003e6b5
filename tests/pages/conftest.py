"""AppTest helpers: open the real app from app/Home.py, in a chosen language, on a chosen page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT

HOME = str(REPO_ROOT / "app" / "Home.py")


def open_app(lang: str = "fr", page: str | None = None, timeout: float = 60) -> AppTest:
    """Run Home (and switch to `page`, e.g. "05_mlflow") with the language chosen in the session."""
    at = AppTest.from_file(HOME, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    if page is not None:
        at.switch_page(f"../pages/{page}.py")
        at.run()
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def app_factory():
    return open_app
