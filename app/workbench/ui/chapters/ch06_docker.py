"""Chapter VI lab tabs: the project's Dockerfiles and compose file explained, hadolint, your own Dockerfile.

`annotated_file` is shared with chapter VII (nginx.conf, gunicorn config)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core.i18n import pick
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.widgets import inline_code, monospace_editor, show_code

P = get_chapter("ch06_docker").prefix  # widget key prefix, from the chapter
CHAPTER = "06_docker"


@dataclass(frozen=True)
class LintedDockerfile:
    """A Dockerfile the learner analysed and the problems found in it."""

    text: str
    problems: list[str]


def annotated_file(name: str, kind: str, language: str) -> None:
    """Show a shipped file, each instruction in an expander with its explanation."""
    from workbench.chapters.ch06_docker import deployfiles

    lang = current_lang()
    text = deployfiles.read_shipped(name)
    st.markdown(t("docker.file_intro", name=name))
    with st.expander(name, icon=":material/description:"):
        st.code(text, language=language, line_numbers=True)
    for line in deployfiles.annotate(kind, text):
        if line.key is None:
            continue
        with st.expander(f"`{line.line}` · {inline_code(line.code.strip().splitlines()[0][:90])}"):
            st.code(line.code.strip("\n"), language=language)
            st.markdown(pick(line.note, lang) if line.note else t("docker.no_note"))


def _hadolint(text: str) -> None:
    from workbench.chapters.ch06_docker import deployfiles

    st.subheader(t("docker.hadolint_title"))
    try:
        findings = deployfiles.run_hadolint(text)
    except deployfiles.DockerError as exc:
        st.error(error_text(exc))
        return
    if not findings:
        st.success(t("docker.hadolint_clean"), icon=":material/verified:")
        return
    st.dataframe(
        pd.DataFrame(
            {
                t("docker.col_line"): [f.line for f in findings],
                t("docker.col_rule"): [f.code for f in findings],
                t("docker.col_level"): [t(f"docker.level_{f.level}") for f in findings],
                t("docker.col_message"): [f.message for f in findings],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def dockerfile_tab(name: str) -> None:
    """One of the project's Dockerfiles, explained, linted, with the commands that use it."""
    from workbench.chapters.ch06_docker import deployfiles

    annotated_file(name, "dockerfile", language="dockerfile")
    _hadolint(deployfiles.read_shipped(name))
    tag = "mlops-workbench-api:1.0" if name.endswith(".api") else "mlops-workbench:1.0"
    port = "8000" if name.endswith(".api") else "8501"
    st.subheader(t("docker.commands_title"))
    show_code(
        f"docker build -f {name} -t {tag} .      # image\n"
        f"docker images                                  # list images\n"
        f"docker history {tag}               # its layers\n"
        f"docker run -d --name demo -p {port}:{port} {tag}   # container, detached\n"
        f"docker ps                                      # running containers (docker ps -a: all)\n"
        f"docker inspect demo                            # full JSON description\n"
        f"docker top demo                                # its processes\n"
        f"docker logs -f demo\n"
        f"docker stop demo && docker rm demo",
        language="bash",
        expanded=True,
    )
    _real_build(name, tag)


def _real_build(name: str, tag: str) -> None:
    """What CI measured when it built this Dockerfile: build time, image size, size of each layer."""
    from workbench.chapters.ch06_docker import deployfiles, docker_build

    lang = current_lang()
    st.subheader(t("docker.build_title"))
    st.markdown(t("docker.build_intro"))
    try:
        report = docker_build.load_build_report()
    except docker_build.BuildReportError as exc:
        st.error(t("docker.build_unreadable", error=error_text(exc)))
        return
    image = report.for_dockerfile(name) if report else None
    if image is None:
        st.info(t("docker.build_missing"))
        return
    size_col, time_col, base_col = st.columns(3)
    size_col.metric(t("docker.build_size"), docker_build.format_size(image.size_bytes, lang))
    time_col.metric(t("docker.build_time"), docker_build.format_duration(image.build_seconds, lang))
    base_col.metric(t("docker.build_base"), docker_build.format_size(image.base_bytes, lang))
    if image.cached_steps:
        st.caption(t("docker.build_cached", steps=image.cached_steps))
    st.dataframe(
        docker_build.layers_table(image, lang),
        hide_index=True,
        width="stretch",
        key=f"{P}_layers_{name.lower().replace('.', '_')}",
    )
    base = t("docker.build_base_local") if report.local_base else f"`{report.base}`"
    date = report.date.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")
    st.caption(
        t(
            "docker.build_caption",
            date=date,
            commit=report.commit or "?",
            docker=report.docker,
            builder=report.builder,
            cpus=report.cpus,
            base=base,
            image=tag,
        )
    )
    if docker_build.is_stale(image, deployfiles.read_shipped(name)):
        st.warning(t("docker.build_stale"))


def compose_tab() -> None:
    """docker-compose.yml: its Docker objects (images, containers, volumes, networks) and keys explained."""
    from workbench.chapters.ch06_docker import deployfiles

    lang = current_lang()
    st.subheader(t("docker.objects_title"))
    st.markdown(t("docker.objects_intro"))
    objects = deployfiles.docker_objects(deployfiles.load_compose())
    st.dataframe(
        pd.DataFrame(
            {
                t("docker.col_kind"): [t(f"docker.kind_{o.kind}") for o in objects],
                t("docker.col_name"): [o.name for o in objects],
                t("docker.col_detail"): [o.detail for o in objects],
            }
        ),
        hide_index=True,
        width="stretch",
        key=f"{P}_objects",
    )
    st.subheader(t("docker.services_title"))
    text = deployfiles.read_shipped("docker-compose.yml")
    with st.expander("docker-compose.yml", icon=":material/description:"):
        st.code(text, language="yaml", line_numbers=True)
    seen: set[str] = set()
    for line in deployfiles.annotate("compose", text):
        if line.key and line.note and line.key not in seen:  # each key explained once, where it first appears
            seen.add(line.key)
            st.markdown(f"`{line.line}` **{inline_code(line.key)}** — {pick(line.note, lang)}")
    show_code(
        "docker compose up --build -d      # build the images, start every service\n"
        "docker compose ps                 # the containers\n"
        "docker compose logs -f api        # follow one service\n"
        "docker volume ls                  # the named volumes\n"
        "docker network ls                 # the bridge network\n"
        "docker compose down               # stop and remove containers and network (volumes stay)\n"
        "docker compose down -v            # ...and the volumes",
        language="bash",
    )


def yours_tab() -> None:
    """The learner writes a Dockerfile for the API; saved to their folder and analysed (rules + hadolint)."""
    from workbench.chapters.ch06_docker import deployfiles

    settings = get_settings()
    learner = current_learner()
    st.markdown(t("docker.yours_intro"))
    key = f"{P}_your_dockerfile"
    if key not in st.session_state:
        saved = deployfiles.load_learner_dockerfile(settings, learner)
        st.session_state[key] = deployfiles.STARTER_DOCKERFILE if saved is None else saved
    monospace_editor(key)
    text = st.text_area(t("docker.yours_label"), key=key, height=360)
    save_col, reset_col = st.columns(2)
    if save_col.button(t("docker.yours_lint"), key=f"{P}_lint", type="primary", icon=":material/fact_check:"):
        try:
            deployfiles.save_learner_dockerfile(settings, learner, text)
            st.session_state[f"{P}_problems"] = LintedDockerfile(
                text, deployfiles.dockerfile_problems(text, current_lang())
            )
            forget_check_results(CHAPTER)
        except deployfiles.DockerError as exc:  # too big, or hadolint cannot run
            st.error(error_text(exc))
        except OSError as exc:  # the file cannot be written
            st.error(t("docker.save_failed", error=error_text(exc)))
    if reset_col.button(t("docker.yours_reset"), key=f"{P}_reset_file", icon=":material/restart_alt:"):
        del st.session_state[key]
        st.session_state.pop(f"{P}_problems", None)
        deployfiles.delete_learner_dockerfile(settings, learner)
        forget_check_results(CHAPTER)
        st.rerun()
    analysed: LintedDockerfile | None = st.session_state.get(f"{P}_problems")
    if analysed is not None:
        analysed_text, problems = analysed.text, analysed.problems
        if analysed_text != text:  # edited since: the old list would describe a file that no longer exists
            st.caption(t("docker.yours_edited"))
        elif problems:
            st.warning(t("docker.yours_problems") + "\n\n" + "\n".join(f"- {p}" for p in problems))
        else:
            st.success(t("docker.yours_good"), icon=":material/verified:")
