"""Who the learner is. Every page asks `current_learner()`; only this module knows where the name comes from.

Solo mode: the learner types a name in the sidebar. The field is bound to the URL (`?learner=`), so a
reload (F5), a bookmark or a move to another page returns to the same learner; an empty field means the
default learner (the OS user, or WORKBENCH_LEARNER).

Class mode (WORKBENCH_MODE=class): there is no name field. A person signs in
- with their join link (`?join=TOKEN`, from `python -m workbench.classroom import-roster`): the token is
  checked against the roster at every run and kept in the URL, so a reload or another page keeps them
  signed in and a revoked link signs them out at their next click;
- or, when `[auth]` is configured in `.streamlit/secrets.toml`, with the school's identity provider
  (`st.login()` / `st.user`, OpenID Connect): the name comes from the token and cannot be edited; the role
  comes from the roster by email (an unknown email is a learner), and a roster entry's name wins so that
  join links and the provider give one person one name; someone the roster does not know is added to it as a
  learner on their first sign-in (`Roster.enrol`).
Until someone is signed in, `sign_in_gate()` shows how to sign in and stops the page: nothing of the class
is shown.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from workbench.core.db import database_url
from workbench.core.learner_files import adopt_legacy_folder
from workbench.core.people import Person, Role
from workbench.core.roster import JOIN_PARAM, Roster
from workbench.core.settings import get_settings

#: Session-state key of the name field, and the name of its URL parameter (`?learner=`).
LEARNER_PARAM = "learner"
#: Session-state key of the signed-in Person (class mode: set by the sign-in, never by a form the learner edits).
PERSON_KEY = "workbench_person"
#: Session-state key of the join token the person signed in with (put back in the URL after a page change).
TOKEN_KEY = "workbench_join_token"
#: Session-state key of this run's sign-in outcome (`identify()` before the navigation → `sign_in_gate()`).
_IDENTIFIED_KEY = "workbench_identified"


def learner_widget(label: str, help: str) -> None:
    """The name field (bound to `?learner=`), then the learner's folder made ready for this version."""
    st.text_input(
        label, key=LEARNER_PARAM, help=help, max_chars=60, placeholder=get_settings().learner, bind="query-params"
    )
    adopt_legacy_folder(get_settings(), current_learner())


def current_person() -> Person:
    """The person of this session: the signed-in person (class mode), else the solo learner."""
    person = st.session_state.get(PERSON_KEY)
    return person if isinstance(person, Person) else Person(current_learner())


def current_learner() -> str:
    """The learner of this session: the name typed in the sidebar, else the default learner."""
    person = st.session_state.get(PERSON_KEY)
    if isinstance(person, Person):
        return person.name
    name = str(st.session_state.get(LEARNER_PARAM) or "").strip()
    return name or get_settings().learner


@st.cache_resource(show_spinner=False)
def _roster(url: str) -> Roster:
    return Roster(url)


def roster() -> Roster:
    """The class roster, in the configured database."""
    return _roster(database_url(get_settings()))


def oidc_provider() -> str | None:
    """The `[auth]` provider to sign in with ("default" for an unnamed one), or None when none is configured."""
    try:
        auth: Any = st.secrets.get("auth")
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return None
    if not auth:
        return None
    if "client_id" in auth:
        return "default"
    named = [key for key, value in auth.items() if hasattr(value, "get") and "client_id" in value]
    return named[0] if named else None


def _join_person() -> Person | None | bool:
    """The person of the URL's (or this session's) join token; False for a token nobody has; None for no token."""
    token = st.query_params.get(JOIN_PARAM) or st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    person = roster().resolve(str(token))
    if person is None:
        st.session_state.pop(TOKEN_KEY, None)
        return False
    st.session_state[TOKEN_KEY] = token
    if st.query_params.get(JOIN_PARAM) != token:
        st.query_params[JOIN_PARAM] = token  # a page change clears the query string: a reload must still work
    return person


def _oidc_person() -> Person | None:
    """The person the identity provider signed in (name from the token, role from the roster by email).

    Someone the roster does not know is added to it on their first sign-in, so the teacher's dashboard and
    `python -m workbench.classroom list|report` know them.
    """
    user = st.user
    if not user.get("is_logged_in"):
        return None
    email = str(user.get("email") or "").strip().lower() or None
    name = str(user.get("name") or user.get("preferred_username") or "").strip()
    return roster().enrol(Person(name, Role.LEARNER, email), subject=str(user.get("sub") or ""))


def identify() -> Person | None:
    """Class mode: who this run is (join link, else identity provider), put in session state; None if nobody.

    Called before `st.navigation` (Home.py's `init_session`), so the pages are built for the signed-in person:
    a teacher who opens their join link sees the teacher section on the first render.
    """
    st.session_state.pop(PERSON_KEY, None)
    joined = _join_person()
    person = joined if isinstance(joined, Person) else None
    if person is None and oidc_provider() is not None:
        person = _oidc_person()
    if person is not None:
        st.session_state[PERSON_KEY] = person
    st.session_state[_IDENTIFIED_KEY] = "bad_link" if joined is False else "done"
    return person


def sign_in_gate(t: Any) -> Person:
    """Class mode: the signed-in person, or a sign-in screen and `st.stop()` (nothing of the class shown).

    Uses this run's `identify()` when it ran before the navigation, else identifies now.

    Args:
        t: the translation function of the session (`workbench.ui.context.t`).
    """
    outcome = st.session_state.pop(_IDENTIFIED_KEY, None)
    if outcome is None:
        identify()
        outcome = st.session_state.pop(_IDENTIFIED_KEY, None)
    person = st.session_state.get(PERSON_KEY)
    if isinstance(person, Person):
        return person
    joined = False if outcome == "bad_link" else None
    provider = oidc_provider()
    st.title(t("classroom.sign_in_title"))
    if joined is False:
        st.error(t("classroom.bad_link"))
    if provider is not None:
        st.info(t("classroom.oidc_hint"))
        if st.button(t("classroom.oidc_button"), key="classroom_sign_in", type="primary"):
            st.login(None if provider == "default" else provider)
    else:
        st.info(t("classroom.join_hint"))
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover - st.stop ends the run


def signed_in_panel(t: Any) -> None:
    """Who is signed in (class mode), and a sign-out button for the identity provider's sessions."""
    person = current_person()
    role = t("classroom.role_teacher") if person.is_teacher else t("classroom.role_learner")
    st.markdown(t("classroom.signed_in_as", name=person.name, role=role))
    if st.session_state.get(TOKEN_KEY) is None and st.user.get("is_logged_in"):
        if st.button(t("classroom.sign_out"), key="classroom_sign_out"):
            st.logout()
