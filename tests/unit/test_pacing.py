"""Pacing: a chapter is done when its hands-on checks and checkpoint pass; prerequisites are suggested."""

from __future__ import annotations

import pytest
from workbench.chapters import CHAPTERS, get_chapter
from workbench.core import tracking
from workbench.core.data import generate_loan_data
from workbench.core.exercises import CAPSTONE_KEY, CHECKPOINT_ID, CheckContext, load_exercises, run_check
from workbench.core.lessons import LessonError, Minutes, load_lesson, parse_lesson, parse_minutes
from workbench.core.pacing import (
    CODE_SECONDS_PER_LINE,
    TextCount,
    chapter_done,
    count_text,
    lab_minutes,
    measure_exercises,
    measure_reading,
    prepare_production_model,
    production_need,
    unfinished_prerequisites,
    write_minutes,
)
from workbench.core.settings import Settings, get_settings
from workbench.core.tracking.store import PREPARED_TAG


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


@pytest.fixture
def class_mode(monkeypatch, mlflow_store) -> Settings:
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    return get_settings()


def test_prepare_gives_the_learner_a_production_model_that_is_not_their_work(class_mode) -> None:
    settings, data = class_mode, generate_loan_data()
    assert not production_need(settings, "ana").met
    steps: list[str] = []
    prepared = prepare_production_model(settings, "ana", data, "07_web_apps_api", steps.append)
    assert steps == ["train", "log", "register", "alias"]
    assert prepared.created and prepared.model == settings.learner_model_name("ana")
    assert (prepared.version, prepared.alias) == (1, "production")
    need = production_need(settings, "ana")
    assert need.met and need.prepared and need.version == 1
    assert not production_need(settings, "bob").met  # bob's registry is untouched
    # It is a real, signed, loadable model at @production of ana's own registered model.
    pipeline = tracking.load_model("production", settings, learner="ana")
    assert len(pipeline.predict(data.drop(columns="Loan_Status").head(3))) == 3
    version = tracking.get_version(1, settings, learner="ana")
    assert version.tags[PREPARED_TAG] == "true" and version.tags["learner"] == "ana"
    run = tracking.run_detail(prepared.run_id, "en", settings, learner="ana")
    assert run.tags[PREPARED_TAG] == "true" and "signature" in run.mlmodel
    # Clicking twice changes nothing.
    again = prepare_production_model(settings, "ana", data, "07_web_apps_api", steps.append)
    assert not again.created and again.version == 1 and again.run_id == prepared.run_id
    assert len(tracking.list_versions(settings, learner="ana")) == 1 and len(steps) == 4


def test_checks_never_count_a_prepared_model(class_mode) -> None:
    settings, data = class_mode, generate_loan_data()
    ctx = CheckContext("ana", "en", settings)
    capstone = {h.id: h for h in load_exercises(CAPSTONE_KEY).hands_on}["capstone-production"]
    prepare_production_model(settings, "ana", data, "07_web_apps_api")
    assert not tracking.check_production_alias(ctx).passed
    assert not run_check(capstone, ctx).passed
    assert tracking.search_runs(learner="ana", settings=settings, include_prepared=False).empty
    # The learner's own version promoted: now it counts; rolling back to the prepared one does not.
    own = tracking.train_and_log(data, "decision_tree", None, "ana", settings=settings)
    mine = tracking.register_run_model(own.run_id, "ana", settings=settings)
    tracking.set_alias("production", mine.version, "ana", settings)
    assert tracking.check_production_alias(ctx).passed and run_check(capstone, ctx).passed
    assert tracking.rollback_production("ana", settings) == 1  # back to the prepared version
    assert not tracking.check_rolled_back(ctx).passed
    # The learner promotes the prepared version by hand: still not their work.
    tracking.set_alias("production", 1, "ana", settings)
    assert [v for v in tracking.production_history(settings, learner="ana") if v["action"] == "promote"]
    second = tracking.register_run_model(own.run_id, "ana", settings=settings)
    tracking.set_alias("production", second.version, "ana", settings)
    tracking.set_alias("production", mine.version, "ana", settings)
    assert tracking.rollback_production("ana", settings) == second.version  # between two versions of theirs
    assert tracking.check_rolled_back(ctx).passed


def test_count_text_counts_prose_words_and_code_lines_apart() -> None:
    text = (
        "L'API répond — voir [la doc](https://example.org/x-y).\n\n```bash\ncurl -s localhost\n\n  echo ok\n```\nFin."
    )
    count = count_text(text)
    assert count == TextCount(words=6, code_lines=2)  # L'API, répond, voir, la, doc, Fin
    assert count.seconds("en") == pytest.approx(60 * 6 / 200 + 2 * CODE_SECONDS_PER_LINE)
    assert count.seconds("fr") == pytest.approx(60 * 6 / 171 + 2 * CODE_SECONDS_PER_LINE)
    assert lab_minutes(30.0, 2) == 3 and lab_minutes(0.0, 0) == 0 and lab_minutes(61.0, 0) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [(40, 40), ({"reading": 10, "lab": 25, "exercises": 5}, Minutes(10, 25, 5)), ("12", 12)],
)
def test_minutes_front_matter_is_one_number_or_three_parts(value, expected) -> None:
    assert parse_minutes(value, "x") == expected


@pytest.mark.parametrize("value", ["ten", {"reading": 1, "lab": 2}, {"reading": -1, "lab": 2, "exercises": 3}, True])
def test_malformed_minutes_are_refused(value) -> None:
    with pytest.raises(LessonError):
        parse_minutes(value, "x")


def test_write_minutes_changes_only_the_minutes_line(tmp_path) -> None:
    path = tmp_path / "l.md"
    path.write_text(
        "---\ntitle: T\nobjectives: [a]\nminutes: 40\nkey_terms: []\n---\nminutes: 3 in the body stays\n", "utf-8"
    )
    assert write_minutes(path, Minutes(7, 30, 12))
    assert path.read_text("utf-8") == (
        "---\ntitle: T\nobjectives: [a]\nminutes: {reading: 7, lab: 30, exercises: 12}\nkey_terms: []\n---\nminutes: 3 in the body stays\n"
    )
    lesson = parse_lesson(path.read_text("utf-8"), "01_introduction", "en")
    assert lesson.parts == Minutes(7, 30, 12) and lesson.minutes == 49
    assert not write_minutes(path, Minutes(7, 30, 12))


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_front_matter_minutes_agree_with_the_measurement(chapter, lang) -> None:
    """Reading and exercises are re-measured from the files (run benchmarks/pacing.py --reuse-lab --write after
    editing a lesson or its questions); the lab was timed by doing it and is only required to be there."""
    parts = load_lesson(chapter.key, lang).parts
    assert parts is not None, "minutes: {reading, lab, exercises} expected"
    assert parts.reading == measure_reading(chapter.key, lang).minutes
    assert parts.exercises == measure_exercises(chapter.key, lang).minutes
    assert parts.lab > 0
