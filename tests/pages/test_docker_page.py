"""AppTest of chapter VI: the shipped files explained and linted, the learner's Dockerfile checked."""

from __future__ import annotations

from tests.conftest import REPO_ROOT
from tests.pages.conftest import assert_no_exception, open_app


def test_files_are_shown_instruction_by_instruction() -> None:
    at = open_app("fr", "06_docker")
    assert_no_exception(at)
    labels = [e.label for e in at.expander]
    assert any("FROM python:3.11-slim" in label for label in labels)
    assert any("HEALTHCHECK" in label for label in labels)
    assert any("Image de base" in m.value for m in at.markdown)
    assert any("hadolint ne trouve rien" in s.value for s in at.success)
    objects = at.dataframe(key="ch06_objects").value if False else None  # noqa: F841 - table checked below
    tables = [d.value for d in at.dataframe]
    assert any("mlops-workbench_workbench" in str(t.values) for t in tables)


def test_instruction_titles_show_the_code_as_written() -> None:
    """`__init__.py` is not turned into bold "init.py", nor `\\` swallowed: each title's code is an inline code span."""
    import re

    at = open_app("fr", "06_docker")
    labels = [e.label for e in at.expander if " · " in e.label]
    assert labels and all(re.fullmatch(r"`\d+` · (`+) ?.+? ?\1", label) for label in labels), labels
    assert any("`COPY --chown=learner:learner app/workbench/__init__.py app/workbench/__init__.py`" == label.split(" · ")[1]
               for label in labels)  # fmt: skip
    assert any(label.endswith("\\`") for label in labels)  # a continued RUN line keeps its backslash


def test_learner_dockerfile_is_linted_and_checked() -> None:
    at = open_app("en", "06_docker")
    at.button(key="ch06_lint").click().run()
    assert_no_exception(at)
    warning = "\n".join(w.value for w in at.warning)
    assert "slim" in warning and "DL3025" in warning
    at.button(key="ch06_own_dockerfile_check").click().run()
    assert not any("follows good practice" in s.value for s in at.success)
    at.text_area(key="ch06_your_dockerfile").input((REPO_ROOT / "Dockerfile.api").read_text()).run()
    at.button(key="ch06_lint").click().run()
    assert any("follows every rule" in s.value for s in at.success)
    at.button(key="ch06_own_dockerfile_check").click().run()
    assert any("follows good practice" in s.value for s in at.success)
