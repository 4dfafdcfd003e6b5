"""Every message a learner reads is translated: the UI shows no hard-coded sentence and no raw exception text.

A learner-facing error is a `LocalizedError` (FR and EN); the UI shows it with `error_text(exc)` (its message in
the learner's language) or `exc.message(lang)`, never `str(exc)`, which is English, nor a traceback.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

UI = REPO_ROOT / "app" / "workbench" / "ui"
#: the Streamlit calls that show a message (and `status.update(label=...)`)
MESSAGES = {"error", "warning", "info", "success", "toast"}
NOT_STREAMLIT = {"log", "logger", "logging", "warnings"}


def _has_words(text: str) -> bool:
    return any(c.isalpha() for c in text)


def untranslated(source: str) -> list[str]:
    """What in `source` shows a learner untranslated text: a literal or f-string sentence given to a message
    call, `st.exception` (a traceback), or an exception caught by `except ... as exc` turned into text."""
    tree = ast.parse(source)
    caught = {h.name for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.name}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            receiver = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if receiver in NOT_STREAMLIT:
                continue
            if name == "exception":
                found.append(f"line {node.lineno}: st.exception shows a traceback")
            shown = []
            if name in MESSAGES:
                shown = node.args[:1] + [k.value for k in node.keywords if k.arg == "body"]
            elif name == "update":
                shown = [k.value for k in node.keywords if k.arg == "label"]
            for arg in shown:
                literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _has_words(arg.value)
                sentence = isinstance(arg, ast.JoinedStr) and any(
                    isinstance(v, ast.Constant) and _has_words(v.value) for v in arg.values
                )
                if literal or sentence:
                    found.append(f"line {node.lineno}: {name}({ast.unparse(arg)[:50]}) is not t(...)")
            if name in ("str", "repr") and node.args and isinstance(node.args[0], ast.Name):
                if node.args[0].id in caught:
                    found.append(f"line {node.lineno}: {name}({node.args[0].id}): use error_text({node.args[0].id})")
        elif isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Name) and node.value.id in caught:
            found.append(f"line {node.lineno}: f-string with {node.value.id}: use error_text({node.value.id})")
    return found


@pytest.mark.parametrize(
    "source, problem",
    [
        ('st.error("Something went wrong")', "is not t(...)"),
        ('box.warning(f"No model for {name}")', "is not t(...)"),
        ('status.update(label="Failed", state="error")', "is not t(...)"),
        ("try:\n    f()\nexcept ValueError as exc:\n    st.error(t('x.y', error=str(exc)))", "use error_text(exc)"),
        ("try:\n    f()\nexcept ValueError as e:\n    st.error(t('x.y', error=f'{e}'))", "use error_text(e)"),
        ("try:\n    f()\nexcept ValueError as exc:\n    st.exception(exc)", "traceback"),
    ],
)
def test_the_scan_finds_untranslated_messages(source: str, problem: str) -> None:
    assert any(problem in p for p in untranslated(source))


def test_the_scan_lets_translated_messages_through() -> None:
    source = (
        "try:\n    f()\nexcept ValueError as exc:\n    st.error(t('x.y', error=error_text(exc)))\n"
        "    log.warning('check %s failed', exc)\n    st.warning(exc.message(lang))\nst.info(t('x.z'))\n"
    )
    assert untranslated(source) == []


@pytest.mark.parametrize("path", sorted(UI.rglob("*.py")), ids=lambda p: str(p.relative_to(UI)))
def test_the_ui_shows_nothing_untranslated(path: Path) -> None:
    assert untranslated(path.read_text(encoding="utf-8")) == []


# --- the errors a learner meets are LocalizedErrors: the same event reads in French and in English -------------


def _both(error) -> tuple[str, str]:
    from workbench.core.i18n import LocalizedError

    assert isinstance(error, LocalizedError), type(error)
    return error.message("fr"), error.message("en")


def test_a_broken_lesson_file_is_explained_in_french_too() -> None:
    from workbench.core.lessons import LessonError, parse_lesson

    with pytest.raises(LessonError) as caught:
        parse_lesson(
            "---\ntitle: T\nobjectives: [a]\nminutes: ten\nkey_terms: []\n---\nbody\n", "01_introduction", "fr"
        )
    fr, en = _both(caught.value)
    assert fr == (
        "lessons/fr/01_introduction.md : « minutes » doit être un nombre entier, "
        "ou trois nombres entiers (reading, lab, exercises)"
    )
    assert (
        en
        == (
            "lessons/fr/01_introduction.md: 'minutes' must be a whole number, "
            "or three whole numbers (reading, lab, exercises)"
        )
        == str(caught.value)
    )


def test_docker_errors_speak_the_learner_s_language(monkeypatch) -> None:
    from workbench.chapters.ch06_docker import deployfiles, docker_build
    from workbench.core.settings import get_settings

    with pytest.raises(deployfiles.DockerError) as caught:
        deployfiles.save_learner_dockerfile(get_settings(), "ana", "#" * 30_000)
    assert _both(caught.value) == ("Le fichier dépasse 20 ko.", "The file is larger than 20 kB.")
    monkeypatch.setattr(deployfiles, "hadolint_binary", lambda: "/nonexistent/hadolint")
    with pytest.raises(deployfiles.DockerError) as caught:  # a binary that cannot run: a message, not a traceback
        deployfiles.run_hadolint("FROM python:3.11\n")
    fr, en = _both(caught.value)
    assert fr.startswith("hadolint n'a pas pu tourner : ") and en.startswith("hadolint could not run: ")
    with pytest.raises(docker_build.BuildReportError) as caught:
        docker_build.parse_build_report({"images": "not a list"})
    assert _both(caught.value)[0].startswith("ce n'est pas un rapport de construction de .ci/docker (")


@pytest.mark.parametrize(
    "body",
    [None, [], {"inputs": "x"}, {"inputs": [{"LoanAmount": "lots"}]}, {"inputs": [{"ApplicantIncome": [1, 2]}]}],
)
def test_a_strange_recent_inputs_answer_is_a_clear_message(body) -> None:
    from workbench.chapters.ch10_monitoring import live

    with pytest.raises(live.MonitoringError) as caught:
        live.recent_inputs_frame(body)
    fr, en = _both(caught.value)
    assert fr.startswith("la réponse de /recent_inputs") and en.startswith("the /recent_inputs answer")


def test_text_that_is_not_metrics_is_a_clear_message() -> None:
    from workbench.chapters.ch10_monitoring import live

    with pytest.raises(live.MonitoringError) as caught:
        live.parse_metrics("<html>this is { not metrics</html>")
    assert _both(caught.value)[0].startswith("la réponse de /metrics n'est pas au format Prometheus (")
