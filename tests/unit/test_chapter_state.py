"""Resetting a chapter: its progress, its records (by key prefix) and its widget state, nothing of the others."""

from __future__ import annotations

from workbench.chapters import get_chapter
from workbench.core.progress import ProgressStore
from workbench.core.records import records_for
from workbench.core.settings import get_settings
from workbench.ui.chapter_state import chapter_state_keys, reset_chapter


def test_chapter_state_keys_come_from_the_chapter_prefix() -> None:
    keys = ["ch02_answer", "ch02", "ch020_x", "ch03_answer", "lang", 42, "home_reset_confirm", "ch02_git_last"]
    assert chapter_state_keys(get_chapter("02_fundamentals"), keys) == ["ch02_answer", "ch02_git_last"]


def test_a_chapter_reset_removes_that_chapter_only() -> None:
    settings = get_settings()
    store = ProgressStore(settings.progress_db)
    for chapter in ("02_fundamentals", "03_deployment_challenges"):
        store.record_attempt("ana", chapter, "q1", "quiz", True)
    store.record_attempt("bob", "02_fundamentals", "q1", "quiz", True)
    ana, bob = records_for(settings, "ana"), records_for(settings, "bob")
    ana.update_json("ch02_fundamentals/answers.json", {"rate": 1})
    ana.put_json("ch03_deployment_challenges/robustness.json", [])
    bob.update_json("ch02_fundamentals/answers.json", {"rate": 2})
    ana.workspace("git-sandbox").mkdir(parents=True)
    state = {"ch02_answer": 1, "ch02_git_last": "x", "ch03_answer": 2, "lang": "fr"}

    done = reset_chapter(get_chapter("02_fundamentals"), "ana", store=store, settings=settings, state=state)

    assert (done.answers, done.records, done.widgets) == (1, 1, 2)
    assert state == {"ch03_answer": 2, "lang": "fr"}
    assert ana.keys() == ["ch03_deployment_challenges/robustness.json"]
    assert bob.get_json("ch02_fundamentals/answers.json") == {"rate": 2}
    assert set(store.completed_items("ana")) == {"03_deployment_challenges"}
    assert set(store.completed_items("bob")) == {"02_fundamentals"}
    assert ana.workspace("git-sandbox").is_dir()  # a workspace has its own reset in its lab
