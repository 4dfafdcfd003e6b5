"""Pacing: a chapter is done when its hands-on checks and checkpoint pass; prerequisites are suggested."""

from __future__ import annotations

from workbench.chapters import CHAPTERS, get_chapter
from workbench.core.exercises import CHECKPOINT_ID, load_exercises
from workbench.core.pacing import chapter_done, unfinished_prerequisites


def test_a_chapter_is_done_only_with_its_checks_and_checkpoint() -> None:
    exercises = load_exercises("05_mlflow")
    hands_on = {h.id for h in exercises.hands_on}
    practice = {q.id for q in exercises.quiz}
    assert not chapter_done("05_mlflow", set())
    assert not chapter_done("05_mlflow", hands_on | practice)  # every practice question right is not enough
    assert not chapter_done("05_mlflow", {CHECKPOINT_ID})
    assert chapter_done("05_mlflow", hands_on | {CHECKPOINT_ID})


def test_chapters_that_use_the_production_model_suggest_chapter_v() -> None:
    for key in ("07_web_apps_api", "08_cicd", "10_monitoring"):
        assert get_chapter(key).prerequisites == ("05_mlflow",)
    known = {c.key for c in CHAPTERS}
    for chapter in CHAPTERS:  # a prerequisite is an earlier chapter that exists
        assert all(p in known and p < chapter.key for p in chapter.prerequisites)
    done_v = {"05_mlflow": set(load_exercises("05_mlflow").item_ids)}
    assert unfinished_prerequisites(("05_mlflow",), {}) == ("05_mlflow",)
    assert unfinished_prerequisites(("05_mlflow",), done_v) == ()
