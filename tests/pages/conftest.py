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


def class_join_token(name: str, role: str = "learner") -> str:
    """Class mode, signed in the real way: `name` in the class roster (added once), and a join link for them."""
    from workbench.core.db import database_url
    from workbench.core.people import Role
    from workbench.core.roster import Roster
    from workbench.core.settings import get_settings

    roster = Roster(database_url(get_settings()))
    if roster.person(name) is None:
        return roster.add(name, Role(role)).token
    return roster.reissue(name).token


def open_class_app(lang: str, name: str, page: str | None = None, role: str = "learner", timeout: float = 60):
    """The app in class mode (WORKBENCH_MODE=class set by the test) opened with `name`'s join link."""
    at = AppTest.from_file(HOME, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.query_params["join"] = class_join_token(name, role)
    at.run()
    if page is not None:
        at.switch_page(f"../pages/{page}.py")
        at.run()
    return at
