"""Class analytics on a simulated class of 30 written through ProgressStore: matrix, questions, stuck, live, CSV."""

from __future__ import annotations

import csv
import io
import types
from pathlib import Path

import pytest
from workbench.chapters import CHAPTERS
from workbench.core import classroom_report as cr
from workbench.core import progress
from workbench.core.exercises import load_exercises
from workbench.core.progress import ProgressStore

NOW = 1_800_000_000.0
MINUTE = 60.0
LEARNERS = [f"L{i:02d}" for i in range(30)]
MLFLOW = load_exercises("05_mlflow")
CHECK = MLFLOW.hands_on[0]  # the check five learners fail
MLFLOW_DONE = MLFLOW.item_ids[1:]  # the chapter's other counted items: hands-on checks, then the checkpoint
INTRO = load_exercises("01_introduction")
HARD = INTRO.quiz[0]  # the practice question ten learners get right at the first try (not counted as done)
FIRST, SECOND = (h.id for h in INTRO.hands_on[:2])


class Clock:
    """The store's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW - 60 * MINUTE

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(time=c.time))
    return c


def _wrong(question) -> list[int]:
    return [next(i for i in range(len(question.options)) if i not in question.answer)]


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> ProgressStore:
    """30 learners: each passes the intro's first check; L{i} passes the first i % 6 of chapter V's other counted
    items (hands-on checks, then the checkpoint); L00-L09 get the intro's first practice question right at once,
    the others after a wrong try; L00-L02 fail chapter V's first check 3 times (stuck), L03 twice, L04 3 times then
    passes; L05 is here but without success for 40 minutes (its last: the intro's second check)."""
    s = ProgressStore(tmp_path / "progress.db")
    for i, name in enumerate(LEARNERS):
        clock.now = NOW - 60 * MINUTE + i
        s.record_visit(name, "01_introduction")
        if i >= 10:
            s.record_attempt(name, "01_introduction", HARD.id, "quiz", False, answer=_wrong(HARD))
        s.record_attempt(name, "01_introduction", HARD.id, "quiz", True, answer=sorted(HARD.answer))
        s.record_attempt(name, "01_introduction", FIRST, "hands_on", True, answer={"f1": 0.8})
        for item in MLFLOW_DONE[: i % 6]:
            kind = "checkpoint" if item == "checkpoint" else "hands_on"
            s.record_attempt(name, "05_mlflow", item, kind, True, answer={"f1": 0.8})
    for i, fails in ((0, 3), (1, 3), (2, 4), (3, 2), (4, 3)):
        clock.now = NOW - 20 * MINUTE + i
        s.record_visit(LEARNERS[i], "05_mlflow")
        for n in range(fails):
            s.record_attempt(LEARNERS[i], "05_mlflow", CHECK.id, "hands_on", False, answer={"runs": n + 1})
    s.record_attempt(LEARNERS[4], "05_mlflow", CHECK.id, "hands_on", True, answer={"runs": 4})
    clock.now = NOW - 40 * MINUTE  # L05: last success 40 minutes ago, still on the page
    s.record_attempt("L05", "01_introduction", SECOND, "hands_on", True, answer={"f1": 0.9})
    clock.now = NOW - 1 * MINUTE
    s.record_visit("L05", "05_mlflow")
    clock.now = NOW - 2 * MINUTE  # L06 succeeded recently
    s.record_attempt("L06", "05_mlflow", MLFLOW_DONE[0], "hands_on", True, answer={"f1": 0.7})
    clock.now = NOW - 3 * MINUTE  # Late: arrived 3 minutes ago, nothing done yet (not stuck: just arrived)
    s.record_visit("Late", "01_introduction")
    return s


@pytest.fixture
def snapshot(store: ProgressStore) -> cr.ClassSnapshot:
    return cr.load_class(store, [*LEARNERS, "Late", "Newcomer"], now=NOW)


def test_matrix_has_one_row_per_learner_and_the_share_done(snapshot: cr.ClassSnapshot) -> None:
    matrix = cr.progress_matrix(snapshot)
    assert matrix.shape == (32, len(CHAPTERS))
    total = len(MLFLOW.item_ids)
    for i, name in enumerate(LEARNERS):  # done = hands-on checks + checkpoint; practice answers do not count
        extra = (name == "L04") + (name == "L06")
        assert matrix.loc[name, "05_mlflow"] == pytest.approx((i % 6 + extra) / total)
        assert matrix.loc[name, "01_introduction"] == pytest.approx((1 + (name == "L05")) / len(INTRO.item_ids))
    assert (matrix.loc["Newcomer"] == 0).all()
    figure = cr.progress_heatmap_figure(snapshot, "fr", {"learner": "Apprenant", "chapter": "Chapitre", "done": "Fait"})
    heat = figure.data[0]
    assert list(heat.x) == [c.roman for c in CHAPTERS] and len(heat.y) == 32
    assert heat.text[5][CHAPTERS.index(next(c for c in CHAPTERS if c.key == "05_mlflow"))] == f"5/{total}"
    assert figure.layout.separators.startswith(",")  # French numbers
    assert list(heat.colorbar.ticktext) == ["0\xa0%", "25\xa0%", "50\xa0%", "75\xa0%", "100\xa0%"]
    assert heat.customdata[5][0][1] == "67\xa0%"  # L05: 2 of the intro's 3 counted items


def test_report_rows_and_csv(snapshot: cr.ClassSnapshot, store: ProgressStore) -> None:
    rows = cr.report_rows(snapshot)
    assert len(rows) == 32 * len(CHAPTERS)
    assert [r.chapter for r in rows[: len(CHAPTERS)]] == [c.key for c in CHAPTERS]
    l03 = {r.chapter: r for r in rows if r.learner == "L03"}
    assert (l03["05_mlflow"].done, l03["05_mlflow"].total) == (3, len(MLFLOW.item_ids))
    assert l03["05_mlflow"].last_activity == pytest.approx(NOW - 20 * MINUTE + 3)  # its last failed check
    assert l03["02_fundamentals"].last_activity is None and l03["02_fundamentals"].done == 0
    assert all(r.done == 0 and r.last_activity is None for r in rows if r.learner == "Newcomer")
    assert cr.classroom_report_rows(store, [*LEARNERS, "Late", "Newcomer"]) == rows
    parsed = list(csv.DictReader(io.StringIO(cr.report_csv(rows))))
    assert tuple(parsed[0]) == cr.REPORT_COLUMNS and len(parsed) == len(rows)
    first = next(p for p in parsed if p["learner"] == "L03" and p["chapter"] == "05_mlflow")
    assert first["done"] == "3" and first["last_activity"] == "2027-01-15T07:40:03+00:00"


def test_first_try_success_per_question_hardest_first(snapshot: cr.ClassSnapshot) -> None:
    stats = cr.question_stats(snapshot, "en")
    hard = stats.set_index("item").loc[HARD.id]
    assert hard["attempted"] == 30 and hard["first_try"] == pytest.approx(10 / 30)
    assert hard["mean_attempts"] == pytest.approx((10 + 2 * 20) / 30) and hard["completed"] == 1
    assert hard["text"] == HARD.prompt["en"]
    check = stats.set_index("item").loc[CHECK.id]
    assert check["attempted"] == 5 and check["first_try"] == 0 and check["completed"] == pytest.approx(1 / 5)
    assert list(stats["item"][:2]) == [CHECK.id, HARD.id]  # 0 % then 33 %: what the class gets wrong first
    assert stats["first_try"].is_monotonic_increasing


def test_stuck_list_names_failed_checks_and_stalled_learners(snapshot: cr.ClassSnapshot) -> None:
    stuck = cr.stuck_learners(snapshot, "fr", idle_minutes=15)
    failed = {s.learner: s for s in stuck if s.reason == "failed_attempts"}
    assert set(failed) == {"L00", "L01", "L02"}  # L03 failed twice only, L04 passed in the end
    assert failed["L02"].attempts == 4 and failed["L02"].item == CHECK.id
    assert failed["L02"].text == CHECK.title["fr"] and failed["L02"].last_answer == "runs: 4"
    idle = [s for s in stuck if s.reason == "no_progress"]
    assert [s.learner for s in idle] == ["L05"]  # L06 succeeded 2 minutes ago, Late just came; others are away
    assert idle[0].minutes == 40 and idle[0].chapter == "05_mlflow"
    assert cr.stuck_learners(snapshot, "fr", idle_minutes=45) == [s for s in stuck if s.reason != "no_progress"]


def test_live_view_puts_present_learners_first(snapshot: cr.ClassSnapshot) -> None:
    live = cr.live_view(snapshot, present_minutes=5)
    present = [p.learner for p in live if p.present]
    assert present == ["L05", "L06", "Late"]
    assert live[0].chapter == "05_mlflow" and live[0].last_seen == pytest.approx(NOW - MINUTE)
    assert live[-1].learner == "Newcomer" and live[-1].chapter is None and live[-1].last_seen is None


def test_learner_detail_shows_attempts_and_what_they_answered(snapshot: cr.ClassSnapshot) -> None:
    detail = cr.learner_detail(snapshot, "L13", "fr")
    intro = detail.set_index("item").loc[HARD.id]
    assert intro["attempts"] == 2 and intro["completed"] and intro["first_correct"] in (False,)
    right = " ; ".join(HARD.options[i]["fr"] for i in sorted(HARD.answer))
    assert intro["last_answer"] == right
    assert list(detail["item"]) == [FIRST, HARD.id, MLFLOW_DONE[0]]  # checks, then practice; L13: one item of V
    assert list(detail["chapter"]) == ["01_introduction", "01_introduction", "05_mlflow"]
    assert detail["last_answer"].iloc[2] == "f1: 0.8"
    assert cr.learner_detail(snapshot, "Newcomer", "fr").empty


def test_describe_answer_for_quiz_checks_and_odd_values() -> None:
    question = INTRO.quiz[0]
    assert cr.describe_answer(INTRO, question.id, [0, 99, "x"], "en") == question.options[0]["en"]
    assert cr.describe_answer(INTRO, "gone", {"f1": 0.5, "why": "low"}, "en") == "f1: 0.5, why: low"
    assert cr.describe_answer(INTRO, "gone", None, "en") == ""
    assert len(cr.describe_answer(INTRO, "gone", "x" * 1000, "en")) == cr.ANSWER_CHARS


def test_snapshot_reads_visits_and_the_attempt_log(snapshot: cr.ClassSnapshot, store: ProgressStore) -> None:
    assert snapshot.visits["L05"] == {
        "01_introduction": pytest.approx(NOW - 60 * MINUTE + 5),
        "05_mlflow": pytest.approx(NOW - MINUTE),
    }
    assert snapshot.visits["Newcomer"] == {}
    l02 = [a for a in snapshot.log if a.learner == "L02" and a.item == CHECK.id]
    assert [a.answer for a in l02] == [{"runs": n} for n in (1, 2, 3, 4)] and not any(a.correct for a in l02)
    assert {a.learner for a in snapshot.log} <= set(snapshot.learners)


def test_stuck_counts_failures_from_the_log_and_last_success_survives_a_later_failure(
    store: ProgressStore, clock: Clock
) -> None:
    """L06 passed a check 2 minutes ago then failed it again: its last answer is wrong but its success counts."""
    clock.now = NOW - MINUTE / 2
    store.record_attempt("L06", "05_mlflow", MLFLOW_DONE[0], "hands_on", False, answer={"f1": 0.1})
    snapshot = cr.load_class(store, ["L06"], now=NOW)
    assert cr.stuck_learners(snapshot, "en", idle_minutes=15) == []


def test_live_view_in_one_query_matches_the_snapshot(snapshot: cr.ClassSnapshot, store: ProgressStore) -> None:
    assert cr.live_presence(store, snapshot.learners, now=NOW) == cr.live_view(snapshot)


def test_class_learners_are_the_roster_learners_then_active_people_never_teachers(store: ProgressStore) -> None:
    from workbench.core.people import Role
    from workbench.core.roster import Roster

    roster = Roster(store.url)
    roster.add("Newcomer")
    roster.add("L00")
    roster.add("Teacher T", Role.TEACHER)
    store.record_visit("Teacher T", "05_mlflow")  # a teacher who opened a chapter is still not a learner
    learners = cr.class_learners(roster, store, exclude=["L29"])
    assert learners[:2] == [
        "L00",
        "Newcomer",
    ]  # the roster (by name) first and "Teacher T" not in learners and "L29" not in learners
    assert set(learners) == {*LEARNERS, "Late", "Newcomer"} - {"L29"}
    assert cr.class_learners(None, store) == store.learners()


def test_learner_tracking_reads_their_runs_and_their_model_aliases(
    mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow import MlflowClient
    from workbench.core.settings import get_settings, learner_key
    from workbench.core.tracking import LEARNER_TAG, experiment_id

    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    settings = get_settings()
    mlflow.set_tracking_uri(mlflow_store)
    for learner in ("ana", "bob"):
        with mlflow.start_run(experiment_id=experiment_id(settings)) as run:
            mlflow.set_tags(
                {"learner": learner, LEARNER_TAG: learner_key(learner), "model_family": "logistic_regression"}
            )
            mlflow.log_metric("f1", 0.7)
        client = MlflowClient(mlflow_store)
        name = settings.learner_model_name(learner)
        client.create_registered_model(name)
        version = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
        if learner == "ana":
            client.set_registered_model_alias(name, "production", version.version)
    found = cr.learner_tracking("ana", settings)
    assert found.model_name == settings.learner_model_name("ana") != settings.model_name
    assert list(found.runs["learner"]) == ["ana"] and found.aliases == {"production": 1}
    assert cr.learner_tracking("carl", settings).aliases == {}
