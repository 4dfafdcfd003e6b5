"""Who the learner is. Every page asks `current_learner()`; only this module knows where the name comes from.

Solo mode: the learner types a name in the sidebar. The field is bound to the URL (`?learner=`), so a
reload (F5), a bookmark or a move to another page returns to the same learner; an empty field means the
default learner (the OS user, or WORKBENCH_LEARNER). A classroom sign-in replaces `learner_widget()` and
`current_learner()` here, and nothing else has to change.
"""

from __future__ import annotations

import streamlit as st

from workbench.core.learner_files import adopt_legacy_folder
from workbench.core.people import Person
from workbench.core.settings import get_settings

#: Session-state key of the name field, and the name of its URL parameter (`?learner=`).
LEARNER_PARAM = "learner"
#: Session-state key of the signed-in Person (class mode: set by the sign-in, never by a form the learner edits).
PERSON_KEY = "workbench_person"


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
