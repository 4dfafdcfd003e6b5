"""NOT COMMITTED: signs the session in as a teacher, then runs Home (screenshots only)."""
import runpy
from pathlib import Path

import streamlit as st
from workbench.core.people import Person, Role
from workbench.ui.identity import PERSON_KEY

st.session_state.setdefault(PERSON_KEY, Person("Mme Lefort", Role.TEACHER))
runpy.run_path(str(Path(__file__).with_name("Home.py")), run_name="__main__")
