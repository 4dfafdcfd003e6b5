"""AppTest of chapter VI: the shipped files explained and linted, the learner's Dockerfile checked."""

from __future__ import annotations

from tests.conftest import REPO_ROOT
from tests.pages.conftest import assert_no_exception, open_app


def test_files_are_shown_instruction_by_instruction() -> None:
    at = open_app("fr", "06_docker")
    assert_no_exception(at)
    labels = [e.label for e in at.expander]
    assert any("ARG BASE=python:3.11-slim" in label for label in labels)
    assert any("FROM ${BASE}" in label for label in labels)
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
    assert any(
        "`COPY --chown=learner:learner app/workbench/__init__.py app/workbench/__init__.py`" == label.split(" · ")[1]
        for label in labels
    )
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


def test_real_build_is_shown_from_the_ci_report_in_both_languages() -> None:
    from workbench.chapters.ch06_docker import docker_build

    report = docker_build.load_build_report(REPO_ROOT / docker_build.REPORT)
    for lang, size_label, time_label, base_row in (
        ("fr", "Taille de l'image", "Durée de construction", "Image de base ("),
        ("en", "Image size", "Build time", "Base image ("),
    ):
        at = open_app(lang, "06_docker")
        assert_no_exception(at)
        shown = [(m.label, m.value) for m in at.metric]
        tables = [d.value for d in at.dataframe if str(d.value.iloc[0, 0]).startswith(base_row)]
        assert len(tables) == 2  # the app's tab, then the API's
        for name, table in zip(("Dockerfile", "Dockerfile.api"), tables):
            image = report.for_dockerfile(name)
            assert (size_label, docker_build.format_size(image.size_bytes, lang)) in shown
            assert (time_label, docker_build.format_duration(image.build_seconds, lang)) in shown
            assert table.equals(docker_build.layers_table(image, lang))
        assert any(".ci/docker" in c.value and report.docker in c.value for c in at.caption)
        assert not at.warning  # the report measured the Dockerfiles as they are


def test_without_a_build_report_the_page_says_how_to_make_one(monkeypatch) -> None:
    from workbench.chapters.ch06_docker import docker_build

    monkeypatch.setattr(docker_build, "REPORT", "docs/no-such-report.json")
    at = open_app("en", "06_docker")
    assert_no_exception(at)
    assert sum("run `.ci/docker`" in i.value for i in at.info) == 2
    assert not at.metric


def _card_texts(at) -> tuple[str, str, str]:
    """All warnings, infos and markdown of the page (the exercise card is at the bottom)."""
    return (
        "\n".join(w.value for w in at.warning),
        "\n".join(i.value for i in at.info),
        "\n".join(m.value for m in at.markdown),
    )


def test_card_never_says_not_yet_beside_completed_and_forgets_stale_verdicts() -> None:
    at = open_app("en", "06_docker")
    at.button(key="ch06_lint").click().run()
    at.button(key="ch06_own_dockerfile_check").click().run()
    warnings, _, _ = _card_texts(at)
    assert "Not yet" in warnings
    # the learner fixes the file and saves it: the old "not yet" list goes (it described the old file)
    at.text_area(key="ch06_your_dockerfile").input((REPO_ROOT / "Dockerfile.api").read_text()).run()
    at.button(key="ch06_lint").click().run()
    warnings, _, _ = _card_texts(at)
    assert "Not yet" not in warnings and "Add a USER" not in warnings
    at.button(key="ch06_own_dockerfile_check").click().run()
    assert any("follows good practice" in s.value for s in at.success)
    # completed, then the learner breaks the file again and checks: no "Not yet" beside "Completed"
    at.text_area(key="ch06_your_dockerfile").input("FROM python:3.11\nCMD python -m workbench.api\n").run()
    at.button(key="ch06_lint").click().run()
    at.button(key="ch06_own_dockerfile_check").click().run()
    assert_no_exception(at)
    warnings, infos, _ = _card_texts(at)
    assert "Not yet" not in warnings
    assert "already completed" in infos and "would no longer pass" in infos


def test_lab_analysis_is_not_shown_for_a_file_edited_since() -> None:
    at = open_app("en", "06_docker")
    at.button(key="ch06_lint").click().run()
    assert any("To fix" in w.value for w in at.warning)
    at.text_area(key="ch06_your_dockerfile").input("FROM python:3.11-slim\n").run()
    assert not any("To fix" in w.value for w in at.warning)
    assert any("Changed since the last analysis" in c.value for c in at.caption)


def test_the_dockerfile_editor_uses_a_monospace_font() -> None:
    at = open_app("en", "06_docker")

    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    # a style-only st.html goes to the page's event container, not the main one
    bodies = [
        node.proto.body for root in at._tree.children.values() for node in walk(root) if type(node).__name__ == "Html"
    ]
    assert any(".st-key-ch06_your_dockerfile textarea" in b and "monospace" in b for b in bodies), bodies
