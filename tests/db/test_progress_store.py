"""ProgressStore's behaviour, the same on SQLite (solo) and the real PostgreSQL (class)."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from workbench.core.progress import ProgressStore, course_progress


@pytest.fixture
def store(database_url: str) -> ProgressStore:
    return ProgressStore(database_url)


def test_completion_is_sticky_and_the_last_answer_and_best_score_are_kept(store: ProgressStore) -> None:
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", False, answer=[1], score=0.5)
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", True, answer=[2], score=0.9)
    item = store.record_attempt("ana", "05_mlflow", "q1", "quiz", False, answer=[0], score=None)
    assert (item.completed, item.last_correct, item.first_correct, item.attempts) == (True, False, False, 3)
    assert item.answer == [0] and item.score == pytest.approx(0.9)
    assert store.completed_items("ana") == {"05_mlflow": {"q1"}}


def test_first_try_right_is_remembered(store: ProgressStore) -> None:
    assert store.record_attempt("ana", "05_mlflow", "q2", "quiz", True, answer={"choice": 3}).first_correct is True
    assert store.record_attempt("ana", "05_mlflow", "q2", "quiz", False).first_correct is True


def test_learners_visits_and_reset(store: ProgressStore) -> None:
    for chapter in ("01_introduction", "05_mlflow"):
        store.record_attempt("ana", chapter, "q1", "quiz", True)
        store.record_visit("ana", chapter)
    store.record_attempt("bob", "05_mlflow", "q1", "quiz", False)
    store.record_visit("zoé", "02_fundamentals")
    assert store.learners() == ["ana", "bob", "zoé"]
    assert store.last_visited("ana") == "05_mlflow" and store.last_visited("bob") is None
    assert store.reset("ana", "05_mlflow") == 1
    assert store.completed_items("ana") == {"01_introduction": {"q1"}}
    assert store.last_visited("ana") == "01_introduction"
    assert [a.chapter for a in store.attempt_log("ana")] == ["01_introduction"]
    assert store.reset("ana") == 1 and store.learners() == ["bob", "zoé"]
    assert store.attempt_log("ana") == [] and store.visits("ana") == []
    assert len(store.attempt_log("bob")) == 1


def test_attempt_log_keeps_every_try_in_order(store: ProgressStore) -> None:
    start = time.time()
    for answer, correct in (([0], False), ([1], False), ([3], False), ([2], True)):
        store.record_attempt("ana", "05_mlflow", "q1", "quiz", correct, answer=answer)
    store.record_attempt("bob", "10_monitoring", "drift", "hands_on", True, answer={"psi": 0.31})
    log = store.attempt_log()
    assert [(a.learner, a.item, a.correct, a.answer) for a in log] == [
        ("ana", "q1", False, [0]),
        ("ana", "q1", False, [1]),
        ("ana", "q1", False, [3]),
        ("ana", "q1", True, [2]),
        ("bob", "drift", True, {"psi": 0.31}),
    ]
    assert all(start <= a.at <= time.time() for a in log) and [a.at for a in log] == sorted(a.at for a in log)
    assert [a.kind for a in store.attempt_log("bob")] == ["hands_on"]
    assert store.attempt_log(since=time.time() + 60) == []
    assert len(store.attempt_log(since=log[-1].at)) == 1


def test_visits_say_who_is_on_which_chapter_now(store: ProgressStore) -> None:
    store.record_visit("ana", "01_introduction")
    store.record_visit("bob", "05_mlflow")
    store.record_visit("ana", "07_web_apps_api")
    visits = store.visits()
    assert [(v.learner, v.chapter) for v in visits] == [
        ("ana", "07_web_apps_api"),
        ("bob", "05_mlflow"),
        ("ana", "01_introduction"),
    ]
    now = {}
    for visit in visits:
        now.setdefault(visit.learner, visit.chapter)
    assert now == {"ana": "07_web_apps_api", "bob": "05_mlflow"}
    assert [v.chapter for v in store.visits("bob")] == ["05_mlflow"]


def test_course_progress_reads_the_store(store: ProgressStore) -> None:
    from workbench.core.exercises import load_exercises

    fundamentals = load_exercises("02_fundamentals")
    store.record_attempt("ana", "02_fundamentals", fundamentals.quiz[0].id, "quiz", True)  # practice: not counted
    store.record_attempt("ana", "02_fundamentals", fundamentals.hands_on[0].id, "hands_on", True)
    store.record_attempt("ana", "02_fundamentals", "checkpoint", "checkpoint", True)
    progress = course_progress(store, "ana")
    assert progress[1].chapter_key == "02_fundamentals" and (progress[1].done, progress[1].total) == (2, 3)


def test_concurrent_threads_lose_nothing(store: ProgressStore) -> None:
    def write(worker: int) -> None:
        for i in range(25):
            store.record_attempt(f"learner{worker}", "05_mlflow", f"q{i}", "quiz", True)
            store.record_attempt("shared", "05_mlflow", "same", "quiz", i % 2 == 0)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(store.completed_items(f"learner{w}")["05_mlflow"]) == 25 for w in range(6))
    shared = store.chapter_items("shared", "05_mlflow")["same"]
    assert shared.attempts == 150 and shared.completed
    assert len(store.attempt_log("shared")) == 150


def _app_process(url: str, name: str, peer: str, ready: multiprocessing.Event, seen: multiprocessing.Queue) -> None:
    """One app process: writes its learner's progress, then reads what the other process wrote."""
    store = ProgressStore(url)
    for i in range(20):
        store.record_attempt(name, "05_mlflow", f"q{i}", "quiz", True)
        store.record_attempt("class", "05_mlflow", "shared", "quiz", True)
    store.record_visit(name, "05_mlflow")
    ready.set()
    deadline = time.time() + 60
    while time.time() < deadline and (
        len(store.completed_items(peer).get("05_mlflow", set())) < 20 or store.last_visited(peer) is None
    ):
        time.sleep(0.05)
    seen.put((name, len(store.completed_items(peer).get("05_mlflow", set())), store.last_visited(peer)))


def test_two_app_processes_share_progress_at_once(database_url: str) -> None:
    """Two processes on one database write at the same time and each sees the other's progress."""
    ctx = multiprocessing.get_context("spawn")
    seen = ctx.Queue()
    events = [ctx.Event(), ctx.Event()]
    procs = [
        ctx.Process(target=_app_process, args=(database_url, "ana", "bob", events[0], seen)),
        ctx.Process(target=_app_process, args=(database_url, "bob", "ana", events[1], seen)),
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    results = sorted(seen.get(timeout=5) for _ in procs)
    assert results == [("ana", 20, "05_mlflow"), ("bob", 20, "05_mlflow")]
    store = ProgressStore(database_url)
    assert store.chapter_items("class", "05_mlflow")["shared"].attempts == 40
    assert len(store.attempt_log()) == 80
