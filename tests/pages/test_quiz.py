"""AppTest: practice questions (shuffled per learner, first try, per-option feedback) and the checkpoint."""

from __future__ import annotations

import pytest
from workbench.core.exercises import CHECKPOINT_ID, load_exercises
from workbench.core.formatting import percent
from workbench.core.i18n import pick
from workbench.core.progress import ProgressStore
from workbench.core.quiz import checkpoint_attempts, draw_checkpoint, option_order
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

CHAPTER = "05_mlflow"


def _key(question, suffix: str) -> str:
    return f"ch05_{question.id.replace('-', '_')}_{suffix}"


def _store() -> ProgressStore:
    return ProgressStore(get_settings().progress_db)


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_practice_options_are_shuffled_per_learner_and_stable(lang) -> None:
    question = next(q for q in load_exercises(CHAPTER).quiz if q.kind == "single")
    at = open_app(lang, CHAPTER)
    learner = get_settings().learner
    shown = list(at.radio(key=_key(question, "answer")).options)
    expected = [pick(question.options[i], lang) for i in option_order(learner, CHAPTER, question)]
    assert shown == expected
    at.run()
    assert list(at.radio(key=_key(question, "answer")).options) == shown  # a rerun
    assert list(open_app(lang, CHAPTER).radio(key=_key(question, "answer")).options) == shown  # a reload
    at.text_input(key="learner").input("zoe").run()
    zoe = [pick(question.options[i], lang) for i in option_order("zoe", CHAPTER, question)]
    assert list(at.radio(key=_key(question, "answer")).options) == zoe


def test_first_try_is_shown_apart_from_a_later_success() -> None:
    quiz = [q for q in load_exercises(CHAPTER).quiz if q.kind == "single"]
    first, second = quiz[0], quiz[1]
    at = open_app("en", CHAPTER)
    at.radio(key=_key(first, "answer")).set_value(sorted(first.answer)[0]).run()
    at.button(key=_key(first, "submit")).click().run()
    wrong = next(i for i in range(len(second.options)) if i not in second.answer)
    at.radio(key=_key(second, "answer")).set_value(wrong).run()
    at.button(key=_key(second, "submit")).click().run()
    assert any("Not quite" in e.value for e in at.error)
    at.radio(key=_key(second, "answer")).set_value(sorted(second.answer)[0]).run()
    at.button(key=_key(second, "submit")).click().run()
    assert_no_exception(at)
    text = _markdown(at)
    assert text.count("Right at the first try") == 1 and text.count("Right after several tries") == 1
    items = _store().chapter_items(get_settings().learner, CHAPTER)
    assert items[first.id].first_correct is True
    assert items[second.id].first_correct is False and items[second.id].completed


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_partly_right_multiple_choice_answer_earns_partial_credit_with_every_why(lang) -> None:
    question = next(q for q in load_exercises(CHAPTER).quiz if q.kind == "multiple" and len(q.answer) >= 2)
    right = sorted(question.answer)
    wrong = next(i for i in range(len(question.options)) if i not in question.answer)
    at = open_app(lang, CHAPTER)
    for i in (right[0], wrong):
        at.checkbox(key=f"{_key(question, 'answer')}_{i}").check().run()
    at.button(key=_key(question, "submit")).click().run()
    assert_no_exception(at)
    expected = max(0.0, (1 - 1) / len(question.answer))
    warnings = [w.value for w in at.warning] + [e.value for e in at.error]
    assert any(
        ("en partie" if lang == "fr" else "Partly") in w or ("Pas tout" if lang == "fr" else "Not quite") in w
        for w in warnings
    )
    text = _markdown(at)
    for i in range(len(question.options)):  # every option explained: what was right, wrong, missed
        assert pick(question.option_why(i), lang) in text
    labels = ("Bien vu", "En trop", "Oubliée") if lang == "fr" else ("Right", "Not this one", "Missed")
    assert all(label in text for label in labels)
    item = _store().chapter_items(get_settings().learner, CHAPTER)[question.id]
    assert item.score == pytest.approx(expected) and not item.completed


def _checkpoint_widgets(at, questions, attempt: int, right: bool = True, skip: int | None = None) -> None:
    for n, question in enumerate(questions):
        if n == skip:
            continue
        key = _key(question, f"cp{attempt}")
        choice = (
            sorted(question.answer)
            if right
            else [next(i for i in range(len(question.options)) if i not in question.answer)]
        )
        if question.kind == "single":
            at.radio(key=key).set_value(choice[0])
        else:
            for i in choice:
                at.checkbox(key=f"{key}_{i}").check()


def _submit_checkpoint(at, lang: str) -> None:
    label = "Valider le point d'étape" if lang == "fr" else "Submit the checkpoint"
    next(b for b in at.button if b.label == label).click().run()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_checkpoint_reveals_nothing_before_it_is_submitted(lang) -> None:
    exercises = load_exercises(CHAPTER)
    learner = get_settings().learner
    questions = draw_checkpoint(exercises, learner, 1)
    at = open_app(lang, CHAPTER)
    for question in questions:  # the learner's draw, and only it, is in the form
        assert (
            at.radio(key=_key(question, "cp1"))
            if question.kind == "single"
            else at.checkbox(key=f"{_key(question, 'cp1')}_0")
        )
    shown = "\n".join(
        [*(s.value for s in at.success), *(e.value for e in at.error), *(i.value for i in at.info), _markdown(at)]
    )
    for question in questions:
        assert pick(question.explanation, lang) not in shown
    _checkpoint_widgets(at, questions, 1, right=True, skip=len(questions) - 1)  # (pending in the form until submitted)
    _submit_checkpoint(at, lang)
    assert_no_exception(at)
    assert any(("il en reste 1" if lang == "fr" else "1 is left") in w.value for w in at.warning)
    assert CHECKPOINT_ID not in _store().chapter_items(learner, CHAPTER)  # nothing recorded, nothing revealed
    for question in questions:
        assert all(pick(question.explanation, lang) not in i.value for i in at.info)


def test_a_checkpoint_is_scored_recorded_and_retaken_with_a_fresh_draw() -> None:
    exercises = load_exercises(CHAPTER)
    learner = get_settings().learner
    first = draw_checkpoint(exercises, learner, 1)
    at = open_app("fr", CHAPTER)
    _checkpoint_widgets(at, first, 1, right=False)
    _submit_checkpoint(at, "fr")
    assert_no_exception(at)
    assert any(m.label == "Score" and m.value == percent(0, "fr", 0) for m in at.metric)
    assert any("Pas encore : il faut " + percent(0.75, "fr", 0) in w.value for w in at.warning)
    assert any(pick(q.explanation, "fr") in i.value for q in first for i in at.info)  # revealed after submission
    item = _store().chapter_items(learner, CHAPTER)[CHECKPOINT_ID]
    assert not item.completed and item.score == 0

    next(b for b in at.button if b.label == "Repasser (nouveau tirage)").click().run()
    second = draw_checkpoint(exercises, learner, 2)
    assert second != first
    _checkpoint_widgets(at, second, 2, right=True)
    _submit_checkpoint(at, "fr")
    assert_no_exception(at)
    assert any(m.label == "Score" and m.value == percent(1, "fr", 0) for m in at.metric)
    assert any("Point d'étape réussi" in s.value for s in at.success)
    item = _store().chapter_items(learner, CHAPTER)[CHECKPOINT_ID]
    assert item.completed and item.score == 1 and item.first_correct is False
    assert [a["passed"] for a in checkpoint_attempts(item.answer)] == [False, True]  # each attempt kept
    total = len(exercises.item_ids)
    assert any(p.text == f"1 sur {total} exercices réussis" for p in at.progress)  # the checkpoint counts

    again = open_app("fr", CHAPTER)  # a reload shows the last result, not a new form
    assert any(m.label == "Score" and m.value == percent(1, "fr", 0) for m in again.metric)
    assert any("déjà réussi" in s.value for s in again.success)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_chapter_suggests_its_unfinished_prerequisite_without_locking(lang) -> None:
    at = open_app(lang, "07_web_apps_api")
    assert_no_exception(at)
    text = "Ce chapitre s'appuie sur le travail du chapitre V" if lang == "fr" else "builds on the work of chapter V"
    assert any(text in i.value for i in at.info)
    assert at.tabs  # the lab is still there: a suggestion, not a lock
    store, learner = _store(), get_settings().learner
    for item in load_exercises(CHAPTER).item_ids:
        store.record_attempt(learner, CHAPTER, item, "hands_on", True)
    at = open_app(lang, "07_web_apps_api")
    assert not any(text in i.value for i in at.info)


SOLUTION_TEXTS = {
    "fr": ("Voir la solution commentée", "Solution commentée", "Réussi, solution vue", "ne comptera plus comme réussi"),
    "en": ("Show the worked solution", "Worked solution", "Passed, solution seen", "no longer count as completed"),
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_learner_opens_a_solution_on_purpose_and_a_later_pass_is_not_done(lang) -> None:
    show, title, passed_seen, cost = SOLUTION_TEXTS[lang]
    store, learner = _store(), get_settings().learner
    at = open_app(lang, "06_docker")
    assert not any(e.label == title for e in at.expander)  # closed until asked for
    at.button(key="ch06_entrypoint_cmd_solution_open").click().run()
    assert any(cost in w.value for w in at.warning)  # the confirmation says what it costs
    assert not any(e.label == title for e in at.expander)
    at.button(key="ch06_entrypoint_cmd_solution_yes").click().run()
    assert_no_exception(at)
    assert [e.label for e in at.expander].count(title) == 1
    assert "ENTRYPOINT" in _markdown(at)
    assert store.chapter_items(learner, "06_docker")["entrypoint-cmd"].solution_seen
    items = load_exercises("06_docker").item_ids
    for item in items:  # every check passes afterwards (what the check button records)
        store.record_attempt(learner, "06_docker", item, "hands_on", True)
    at = open_app(lang, "06_docker")
    assert_no_exception(at)
    assert passed_seen in _markdown(at)
    bar = at.get("progress")[0].proto.text
    assert bar.startswith(f"{len(items) - 1} ") and f" {len(items)} " in bar  # the chapter bar does not count it
    assert not store.chapter_items(learner, "06_docker")["entrypoint-cmd"].done


def test_after_a_pass_the_solution_opens_for_free() -> None:
    store, learner = _store(), get_settings().learner
    store.record_attempt(learner, "06_docker", "entrypoint-cmd", "hands_on", True)
    at = open_app("en", "06_docker")
    assert "Worked solution" in [e.label for e in at.expander]
    assert "ch06_entrypoint_cmd_solution_open" not in [b.key for b in at.button]
    assert "ch06_expose_publish_solution_open" in [b.key for b in at.button]  # not passed: still asks
    assert store.chapter_items(learner, "06_docker")["entrypoint-cmd"].done


def test_teachers_always_see_the_walkthroughs_and_class_learners_ask(monkeypatch) -> None:
    from tests.pages.conftest import open_class_app

    monkeypatch.setenv("WORKBENCH_MODE", "class")  # signed in by their join links
    get_settings.cache_clear()
    teacher = open_class_app("fr", "prof", "06_docker", role="teacher")
    assert_no_exception(teacher)
    walkthroughs = sum(h.solution is not None for h in load_exercises("06_docker").hands_on)
    assert sum(e.label == "Solution commentée (vue enseignant)" for e in teacher.expander) == walkthroughs
    assert not any(str(b.key).endswith("_solution_open") for b in teacher.button)
    learner = open_class_app("fr", "lea", "06_docker")
    assert_no_exception(learner)
    assert not any(e.label.startswith("Solution commentée") for e in learner.expander)
    assert sum(str(b.key).endswith("_solution_open") for b in learner.button) == walkthroughs


def test_home_offers_the_certificate_only_when_every_chapter_is_done() -> None:
    from workbench.chapters import CHAPTERS

    at = open_app("fr")
    assert_no_exception(at)
    assert any(f"Certificat : 0 chapitre sur {len(CHAPTERS)} terminé" in c.value for c in at.caption)
    assert not at.get("download_button")
    assert any(p.text == "0 critère sur 6 vérifié" for p in at.progress)  # the capstone's rubric
    store, learner = _store(), get_settings().learner
    for key in [*(c.key for c in CHAPTERS), "capstone"]:
        for item in load_exercises(key).item_ids:
            store.record_attempt(learner, key, item, "hands_on", True, score=1.0)
    at = open_app("en")
    assert_no_exception(at)
    buttons = at.get("download_button")
    assert len(buttons) == 1 and "certificate" in buttons[0].proto.label


def test_the_capstone_rubric_checks_real_state_from_home() -> None:
    at = open_app("en")
    assert any(e.label == "Project rubric and checks" for e in at.expander)
    at.button(key="chca_capstone_production_drift_check").click().run()
    assert_no_exception(at)
    assert any("Not yet" in w.value for w in at.warning)  # nothing done: the criterion is not met
    item = _store().chapter_items(get_settings().learner, "capstone")["capstone-production-drift"]
    assert item.attempts == 1 and not item.completed


def _everything_shown(at) -> str:
    return "\n".join(
        [
            *(s.value for s in at.success),
            *(e.value for e in at.error),
            *(i.value for i in at.info),
            *(w.value for w in at.warning),
            *(c.value for c in at.caption),
            _markdown(at),
        ]
    )


@pytest.mark.parametrize(
    ("lang", "tab", "right"),
    [("fr", "Corrigé (enseignant)", "Bonne réponse"), ("en", "Answer key (teacher)", "Right answer")],
)
def test_a_signed_in_teacher_sees_every_model_answer_without_answering(monkeypatch, lang, tab, right) -> None:
    from tests.pages.conftest import open_class_app

    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    at = open_class_app(lang, "prof", CHAPTER, role="teacher")
    assert_no_exception(at)
    assert tab in [x.label for x in at.tabs]
    infos = [i.value for i in at.info]
    text = _markdown(at)
    for question in load_exercises(CHAPTER).quiz:
        assert pick(question.explanation, lang) in infos, question.id
        for index in question.answer:  # each right option, marked as such
            assert f"**{right}** · {pick(question.options[index], lang)}" in text, question.id
    assert not _store().chapter_items("prof", CHAPTER)  # nothing was answered to see them


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_class_learner_sees_no_model_answer_before_answering(monkeypatch, lang) -> None:
    from tests.pages.conftest import open_class_app

    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    at = open_class_app(lang, "lea", CHAPTER)
    assert_no_exception(at)
    assert not any(x.label in ("Corrigé (enseignant)", "Answer key (teacher)") for x in at.tabs)
    quiz = load_exercises(CHAPTER).quiz
    shown = _everything_shown(at)
    assert ("Bonne réponse" if lang == "fr" else "Right answer") not in shown
    for question in quiz:  # neither in practice nor in the checkpoint form
        assert pick(question.explanation, lang) not in shown, question.id
    first = next(q for q in quiz if q.kind == "single")
    at.radio(key=_key(first, "answer")).set_value(next(iter(first.answer))).run()
    at.button(key=_key(first, "submit")).click().run()
    shown = _everything_shown(at)
    assert pick(first.explanation, lang) in shown  # revealed once answered, and only that one
    assert not any(pick(q.explanation, lang) in shown for q in quiz if q.id != first.id)
