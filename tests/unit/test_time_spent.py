"""Time learners really spent per chapter, from a simulated class written through ProgressStore."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from workbench.core import classroom_report as cr
from workbench.core import progress
from workbench.core.exercises import load_exercises
from workbench.core.progress import ProgressStore

T0 = 1_800_000_000.0
MINUTE = 60.0
LEARNERS = [f"L{i:02d}" for i in range(30)]
INTRO, MLFLOW = load_exercises("01_introduction"), load_exercises("05_mlflow")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgressStore:
    """Learner i (a = 2 + i % 5 minutes): on chapter I, answers at 0, a and a + 20 (a 20-minute pause), last
    visit at a + 21; then on chapter V (L00-L24 only), checks at a + 22 and a + 28, last visit at a + 30.
    Chapter I: a + 10 (the pause capped) + 1 = a + 11 min; chapter V: 6 + 2 = 8 min; the move between them counts
    for neither."""
    clock = types.SimpleNamespace(now=T0)
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(time=lambda: clock.now))
    s = ProgressStore(tmp_path / "progress.db")
    question, check = INTRO.quiz[0].id, MLFLOW.hands_on[0].id
    for i, name in enumerate(LEARNERS):
        a = 2 + i % 5

        def at(minutes: float, i: int = i) -> None:
            clock.now = T0 + i + minutes * MINUTE

        at(0)
        s.record_attempt(name, "01_introduction", question, "quiz", False)
        at(a)
        s.record_attempt(name, "01_introduction", question, "quiz", True)
        at(a + 20)
        s.record_attempt(name, "01_introduction", INTRO.hands_on[0].id, "hands_on", True)
        at(a + 21)
        s.record_visit(name, "01_introduction")
        if i < 25:
            at(a + 22)
            s.record_attempt(name, "05_mlflow", check, "hands_on", False)
            at(a + 28)
            s.record_attempt(name, "05_mlflow", check, "hands_on", True)
            at(a + 30)
            s.record_visit(name, "05_mlflow")
    return s


def test_time_spent_sums_same_chapter_gaps_capped_at_ten_minutes(store: ProgressStore) -> None:
    snapshot = cr.load_class(store, [*LEARNERS, "Newcomer"], now=T0 + 3600)
    spent = cr.time_spent(snapshot)
    assert spent["L00"] == pytest.approx({"01_introduction": 13.0, "05_mlflow": 8.0})
    assert spent["L04"]["01_introduction"] == pytest.approx(17.0)
    assert spent["L27"] == pytest.approx({"01_introduction": 15.0})  # never on chapter V
    assert spent["Newcomer"] == {}
    assert cr.time_spent(snapshot, cap_minutes=30)["L00"]["01_introduction"] == pytest.approx(23.0)


def test_chapter_times_give_median_and_p75_per_chapter_next_to_the_plan(store: ProgressStore) -> None:
    snapshot = cr.load_class(store, [*LEARNERS, "Newcomer"], now=T0 + 3600)
    times = cr.chapter_times(snapshot, {"01_introduction": 31}).set_index("chapter")
    intro, mlflow = times.loc["01_introduction"], times.loc["05_mlflow"]
    # Chapter I: 6 learners each at 13, 14, 15, 16, 17 min.
    assert (intro["learners"], intro["median"], intro["p75"], intro["planned"]) == (30, 15.0, 16.0, 31)
    assert (mlflow["learners"], mlflow["median"], mlflow["p75"]) == (25, 8.0, 8.0)
    assert pd_isna(mlflow["planned"]) and times.loc["09_kubernetes", "learners"] == 0
    assert pd_isna(times.loc["09_kubernetes", "median"])


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
