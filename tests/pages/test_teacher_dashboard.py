"""AppTest: the teacher's dashboard for a teacher (FR, EN), refused to a learner and absent from their navigation."""

from __future__ import annotations

import csv
import io

import pytest
from streamlit.testing.v1 import AppTest
from workbench.core.exercises import load_exercises
from workbench.core.people import Person, Role
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings
from workbench.ui.identity import PERSON_KEY

from tests.pages.conftest import HOME, assert_no_exception

TEACHER = Person("Mme Lefort", Role.TEACHER)
QUESTION = load_exercises("05_mlflow").quiz[0]
CHECK = load_exercises("05_mlflow").hands_on[0]


@pytest.fixture
def class_store() -> ProgressStore:
    """Three learners: ana stuck at a chapter V check (3 failed tries), bob passed it and answered a practice
    question right, carl only visited."""
    store = ProgressStore(get_settings().progress_db)
    store.record_visit("ana", "05_mlflow")
    store.record_visit("bob", "05_mlflow")
    for n in range(3):
        store.record_attempt("ana", "05_mlflow", CHECK.id, "hands_on", False, answer={"runs": n + 1})
    store.record_attempt("bob", "05_mlflow", CHECK.id, "hands_on", True, answer={"runs": 3})
    store.record_attempt("bob", "05_mlflow", QUESTION.id, "quiz", True, answer=sorted(QUESTION.answer))
    store.record_visit("carl", "07_web_apps_api")
    return store


@pytest.fixture
def navigation(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The pages Home gives `st.navigation` (section → pages), one entry per render, for this test."""
    import streamlit as st

    given: list[dict] = []
    real = st.navigation

    def watched(pages, **kwargs):
        given.append(pages)
        return real(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", watched)
    return given


def _home(lang: str | None = None, person: Person | None = None, join: str | None = None) -> AppTest:
    """Home after its first run, in `lang`, as `person` (session state) or with a join link's token."""
    at = AppTest.from_file(HOME, default_timeout=60)
    if lang is not None:
        at.session_state["lang"] = lang
    if person is not None:
        at.session_state[PERSON_KEY] = person
    if join is not None:
        at.query_params["join"] = join
    at.run()
    return at


def _open(lang: str, person: Person | None) -> AppTest:
    return _home(lang, person).switch_page("../pages/teacher.py").run()


def _visible(pages: dict) -> list[str]:
    """Titles of the visible pages of one navigation."""
    return [page.title for section in pages.values() for page in section if page.visibility == "visible"]


def _table(at: AppTest, *headers: str):
    """The table whose first columns are `headers` (AppTest does not expose a dataframe's key)."""
    return next(df.value for df in at.dataframe if tuple(df.value.columns[: len(headers)]) == headers)


def _nav_titles(person: Person | None, navigation: list[dict]) -> list[str]:
    """Titles of the pages Home's navigation shows to `person` (None: solo mode)."""
    assert_no_exception(_home(person=person))
    return _visible(navigation[-1])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_teacher_sees_the_class(lang: str, class_store: ProgressStore) -> None:
    at = _open(lang, TEACHER)
    assert_no_exception(at)
    assert at.title[0].value == ("Tableau de bord de la classe" if lang == "fr" else "Class dashboard")
    assert [tab.label for tab in at.tabs] == (
        ["Progression", "Questions", "Qui bloque", "En direct", "Un apprenant"]
        if lang == "fr"
        else ["Progress", "Questions", "Who is stuck", "Live", "One learner"]
    )
    caption = at.caption[0].value
    assert caption.startswith("3 apprenants" if lang == "fr" else "3 learners")
    heatmap = at.get("plotly_chart")[0].proto.spec
    assert '"type":"heatmap"' in heatmap.replace(" ", "") and "ana" in heatmap and "carl" in heatmap
    fr = lang == "fr"
    stuck = _table(at, "Apprenant" if fr else "Learner", "Pourquoi" if fr else "Why")
    assert list(stuck.iloc[:, 0]) == ["ana"]
    assert ("3 essais ratés" if lang == "fr" else "3 failed attempts") in stuck.iloc[0, 1]
    assert stuck.iloc[0, 3] == CHECK.title[lang]
    assert stuck.iloc[0, 4] == "runs: 3"  # what ana last tried, from the attempt log
    questions = _table(
        at,
        "Chapitre" if fr else "Chapter",
        "Question ou exercice" if fr else "Question or exercise",
        "Type" if fr else "Kind",
    )
    assert questions.iloc[0, 1] == CHECK.title[lang] and questions.iloc[0, 3] == 2  # 1 of 2 right at once
    assert questions.iloc[1, 1] == QUESTION.prompt[lang]  # practice questions are listed too
    live = _table(at, "Apprenant" if fr else "Learner", "Présent" if fr else "Here")
    assert set(live.iloc[:, 0]) == {"ana", "bob", "carl"}
    assert set(live.iloc[:, 1]) == ({"oui"} if fr else {"yes"})  # all three were just seen
    here = "3 apprenants présents — **V. MLflow**\u00a0: 2" if fr else "3 learners here — **V. MLflow**: 2"
    assert any(m.value.startswith(here) for m in at.markdown)
    assert at.selectbox(key="teacher_learner").options == ["ana", "bob", "carl"]
    detail = _table(
        at,
        "Chapitre" if fr else "Chapter",
        "Question ou exercice" if fr else "Question or exercise",
        "Essais" if fr else "Attempts",
    )
    assert detail.iloc[0, 2] == 3  # ana's attempts
    csv_button = at.get("download_button")[0]
    assert csv_button.proto.label == ("Exporter en CSV" if lang == "fr" else "Export as CSV")


def test_the_csv_has_the_report_rows(class_store: ProgressStore) -> None:
    from workbench.core.classroom_report import REPORT_COLUMNS, classroom_report_rows, report_csv

    at = _open("en", TEACHER)
    assert_no_exception(at)
    rows = classroom_report_rows(class_store, ["ana", "bob", "carl"])
    parsed = list(csv.DictReader(io.StringIO(report_csv(rows))))
    assert tuple(parsed[0]) == REPORT_COLUMNS and len(parsed) == 3 * 11
    bob = next(r for r in parsed if r["learner"] == "bob" and r["chapter"] == "05_mlflow")
    assert bob["done"] == "1" and bob["last_activity"]
    # the page offers the same file (Streamlit serves it from its media store; its URL is in the element)
    assert at.get("download_button")[0].proto.url


def test_the_teacher_resets_a_learner_s_chapter_after_confirming(class_store: ProgressStore) -> None:
    at = _open("en", TEACHER)
    assert at.button(key="teacher_reset").disabled
    at.selectbox(key="teacher_reset_chapter").set_value("05_mlflow").run()
    at.checkbox(key="teacher_reset_confirm").check().run()
    at.button(key="teacher_reset").click().run()
    assert_no_exception(at)
    assert class_store.chapter_items("ana", "05_mlflow") == {}
    assert class_store.chapter_items("bob", "05_mlflow")  # only ana's chapter
    assert any("1 answer of ana erased in chapter V" in s.value for s in at.success)
    assert not at.checkbox(key="teacher_reset_confirm").value  # the next reset needs a new confirmation
    assert any("Nobody is stuck" in s.value for s in at.success)  # ana's three wrong tries are gone


@pytest.mark.parametrize("person", [None, Person("ana")], ids=["solo", "class-learner"])
def test_a_learner_is_refused_and_does_not_see_the_page(
    person, class_store: ProgressStore, navigation: list[dict]
) -> None:
    at = _open("fr", person)
    assert_no_exception(at)
    assert any("réservée aux enseignants" in e.value for e in at.error)
    assert not at.tabs and not at.get("plotly_chart") and not at.get("download_button")
    titles = _nav_titles(person, navigation)
    assert len(titles) == 12 and "Tableau de bord de la classe" not in titles  # home and the 11 chapters


def test_the_teacher_has_the_page_in_the_navigation(navigation: list[dict]) -> None:
    assert _nav_titles(TEACHER, navigation)[-1] == "Tableau de bord de la classe"


def _nav_for_link(link: str | None, navigation: list[dict], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Class mode: the visible pages of the FIRST render of Home opened with `link`'s query string."""
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    navigation.clear()
    assert_no_exception(_home(join=link.split("join=", 1)[1] if link is not None else None))
    assert len(navigation) == 1  # one render
    return _visible(navigation[0])


def test_a_teacher_signed_in_by_join_link_has_the_page_on_the_first_render(
    class_store: ProgressStore, navigation: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.core.roster import Roster, parse_roster

    roster = Roster(class_store.url)  # the app's database: SQLite in the state dir
    links = {
        i.person.name: i.link("http://localhost:8501")
        for i in roster.import_people(parse_roster("name,role\nMme Lefort,teacher\nana,learner\n"))
    }
    assert _nav_for_link(links["Mme Lefort"], navigation, monkeypatch)[-1] == "Tableau de bord de la classe"
    learner = _nav_for_link(links["ana"], navigation, monkeypatch)
    assert len(learner) == 12 and "Tableau de bord de la classe" not in learner
