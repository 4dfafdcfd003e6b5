"""AppTest: the teacher's dashboard shows the minutes learners really spent per chapter next to the plan."""

from __future__ import annotations

import types

import pytest
from streamlit.testing.v1 import AppTest
from workbench.core import progress
from workbench.core.exercises import load_exercises
from workbench.core.lessons import load_lesson
from workbench.core.people import Person, Role
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings
from workbench.ui.identity import PERSON_KEY

from tests.pages.conftest import HOME, assert_no_exception

CHECK = load_exercises("05_mlflow").hands_on[0].id


@pytest.mark.parametrize(
    ("lang", "headers"),
    [
        ("fr", ("Chapitre", "Apprenants", "Médiane (min)", "75e centile (min)", "Prévu (min)")),
        ("en", ("Chapter", "Learners", "Median (min)", "75th percentile (min)", "Planned (min)")),
    ],
)
def test_time_per_chapter_table(lang: str, headers: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = types.SimpleNamespace(now=1_800_000_000.0)
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(time=lambda: clock.now))
    store = ProgressStore(get_settings().progress_db)
    for name, minutes in (("ana", 4), ("bob", 8), ("carl", 30)):  # carl's 30-minute gap counts 10
        clock.now = 1_800_000_000.0
        store.record_attempt(name, "05_mlflow", CHECK, "hands_on", False)
        clock.now += minutes * 60
        store.record_visit(name, "05_mlflow")
    monkeypatch.undo()
    at = AppTest.from_file(HOME, default_timeout=60)
    at.session_state["lang"] = lang
    at.session_state[PERSON_KEY] = Person("Mme Lefort", Role.TEACHER)
    at.run()
    at.switch_page("../pages/teacher.py").run()
    assert_no_exception(at)
    table = next(df.value for df in at.dataframe if tuple(df.value.columns) == headers)
    row = table[table[headers[0]].str.startswith("V. ")].iloc[0]
    assert row[headers[1]] == 3 and row[headers[2]] == 8.0 and row[headers[3]] == 9.0
    assert row[headers[4]] == load_lesson("05_mlflow", lang).minutes
    cap = "au plus 10 min" if lang == "fr" else "at most 10 min"
    assert any(cap in c.value for c in at.caption)
