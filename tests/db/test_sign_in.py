"""Class mode sign-in with join links, through the real app (AppTest): valid, reload, page change, revoked, forged."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from workbench.core.people import Person, Role
from workbench.core.roster import Roster
from workbench.core.settings import get_settings
from workbench.ui.identity import PERSON_KEY

from tests.conftest import REPO_ROOT

HOME = str(REPO_ROOT / "app" / "Home.py")


@pytest.fixture
def roster(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Roster:
    """Class mode on this test's database (SQLite in the state dir, or the real PostgreSQL)."""
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", database_url)
    get_settings.cache_clear()
    return Roster(database_url)


def _open(lang: str = "fr", token: str | None = None) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=90)
    at.session_state["lang"] = lang
    if token is not None:
        at.query_params["join"] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in (*at.markdown, *at.info, *at.error, *at.title, *at.sidebar.markdown))


def test_without_a_link_nothing_of_the_class_is_shown(roster: Roster) -> None:
    roster.add("Ana", Role.LEARNER)
    at = _open("en")
    assert at.title[0].value == "Sign in to the class"
    assert "Open the personal link your teacher gave you" in at.info[0].value
    assert [w.key for w in at.text_input] == []  # no free-text name in class mode
    assert len(at.sidebar.get("progress")) == 0 and len(at.error) == 0
    assert PERSON_KEY not in at.session_state


def test_a_join_link_signs_in_for_the_visit_a_reload_and_other_pages(roster: Roster) -> None:
    ana = roster.add("Ana Martin", Role.LEARNER, "ana@ecole.fr")
    at = _open("fr", ana.token)
    assert at.session_state[PERSON_KEY] == Person("Ana Martin", Role.LEARNER, "ana@ecole.fr")
    assert "Connecté·e : **Ana Martin** (apprenant·e)" in _texts(at)
    assert [w.key for w in at.text_input if w.key == "learner"] == []
    at.switch_page("../pages/05_mlflow.py")
    at.run()
    assert not at.exception and at.session_state[PERSON_KEY].name == "Ana Martin"
    assert at.query_params["join"] in (ana.token, [ana.token])  # kept in the URL for a reload

    again = _open("fr", ana.token)  # F5: a new session from the same URL
    assert again.session_state[PERSON_KEY].name == "Ana Martin"


def test_a_teacher_link_signs_in_a_teacher(roster: Roster) -> None:
    leroy = roster.add("Mme Leroy", Role.TEACHER)
    at = _open("en", leroy.token)
    assert at.session_state[PERSON_KEY].is_teacher
    assert "Signed in: **Mme Leroy** (teacher)" in _texts(at)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_forged_link_signs_nobody_in(roster: Roster, lang: str) -> None:
    real = roster.add("Ana", Role.LEARNER).token
    forged = ("A" if real[0] != "A" else "B") + real[1:]
    at = _open(lang, forged)
    assert PERSON_KEY not in at.session_state
    message = at.error[0].value
    assert ("revoked" in message) if lang == "en" else ("révoqué" in message)
    assert [w.key for w in at.text_input] == []


def test_a_revoked_link_signs_out_at_the_next_click(roster: Roster) -> None:
    ana = roster.add("Ana", Role.LEARNER)
    at = _open("en", ana.token)
    assert at.session_state[PERSON_KEY].name == "Ana"
    roster.revoke("Ana")
    at.run()
    assert not at.exception and PERSON_KEY not in at.session_state
    assert "not valid" in at.error[0].value
    fresh = roster.reissue("Ana")
    assert _open("en", fresh.token).session_state[PERSON_KEY].name == "Ana"
    assert PERSON_KEY not in _open("en", ana.token).session_state


def _open_oidc(user: dict[str, object]) -> AppTest:
    """The app with `[auth]` configured and `st.user` signed in by the provider as `user`."""
    at = AppTest.from_file(HOME, default_timeout=90)
    at.session_state["lang"] = "en"
    at.secrets["auth"] = {"client_id": "workbench", "client_secret": "s", "server_metadata_url": "http://x/"}
    at.user = {"is_logged_in": True, **user}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_oidc_user_is_recorded_in_the_class_on_first_sign_in(roster: Roster) -> None:
    roster.add("Mme Leroy", Role.TEACHER, "leroy@ecole.fr")
    zoe = {"email": "Zoe@Ecole.fr", "name": "Zoé Durand", "sub": "zoe"}
    at = _open_oidc(zoe)
    assert at.session_state[PERSON_KEY] == Person("Zoé Durand", Role.LEARNER, "zoe@ecole.fr")
    assert roster.person("Zoé Durand") == Person("Zoé Durand", Role.LEARNER, "zoe@ecole.fr")
    _open_oidc(zoe).run()  # a second visit and a rerun: still one entry
    assert [p.name for p in roster.people()] == ["Mme Leroy", "Zoé Durand"]
    teacher = _open_oidc({"email": "LEROY@ecole.fr", "name": "Claire Leroy", "sub": "leroy"})
    assert teacher.session_state[PERSON_KEY] == Person("Mme Leroy", Role.TEACHER, "leroy@ecole.fr")
    assert len(roster.people()) == 2
