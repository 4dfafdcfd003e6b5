"""Chapter IV lab tabs: serialization formats, the example package (build + tests), the environment."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.model_widgets import model_form
from workbench.ui.resources import course_data
from workbench.ui.widgets import dataframe, live_log, number_field, show_code

P = get_chapter("ch04_packaging").prefix  # widget key prefix, from the chapter


def _localised(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its column names translated (`packaging.col_<name>`)."""
    return table.rename(columns={c: t(f"packaging.col_{c}") for c in table.columns})


# ----------------------------------------------------------------------------------------------
# Serialization
# ----------------------------------------------------------------------------------------------


def serialization_tab() -> None:
    """Save the course pipeline with pickle, joblib (0, 3, 9) and skops; sizes, times, same predictions."""
    from workbench.chapters.ch04_packaging import lab as pk

    lang = current_lang()
    settings, learner = get_settings(), current_learner()
    st.markdown(t("packaging.serialization_intro"))
    model_name, params = model_form(f"{P}_ser", default_model="random_forest")
    if st.button(t("packaging.serialize_run"), key=f"{P}_ser_run", type="primary", icon=":material/save:"):
        from workbench.core.data import split_features_target
        from workbench.core.modeling import build_pipeline

        with st.status(t("packaging.serialize_training"), expanded=False) as status:
            try:
                X, y = split_features_target(course_data())
            except (OSError, ValueError) as exc:
                status.update(state="error")
                st.error(t("packaging.data_error", error=error_text(exc)))
                return
            pipeline = build_pipeline(model_name, params).fit(X, y)
            status.update(label=t("packaging.serialize_saving"))
            rows = pk.compare_serializers(pipeline, X, pk.serialization_dir(settings, learner))
            status.update(label=t("packaging.serialize_done", n=len(rows)), state="complete")
        st.session_state[f"{P}_ser_rows"] = rows
    rows = st.session_state.get(f"{P}_ser_rows")
    if rows:
        dataframe(
            pk.serialization_table(rows, lang),
            key=f"{P}_ser_table",
            formats={t("packaging.col_max_gap"): lambda v: fmt.format_value(v, ".1e", lang)},
        )
        if all(r.identical for r in rows):
            st.success(t("packaging.all_identical", n=len(rows)), icon=":material/check:")
        for row in rows:
            if row.error:
                st.error(t("packaging.load_refused", file=row.path.name, error=row.error))
        untrusted = sorted({u for r in rows for u in r.untrusted})
        st.info(
            t("packaging.untrusted_explained", types=", ".join(f"`{u}`" for u in untrusted) or "—"),
            icon=":material/shield:",
        )
        _ratio_answer()
    show_code(pk.serialization_code())
    st.divider()
    _reduce_demo()


def _ratio_answer() -> None:
    from workbench.chapters.ch04_packaging import lab as pk

    st.markdown(t("packaging.ratio_question"))
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    percent = number_field(
        t("packaging.ratio_answer"),
        key=f"{P}_ratio_answer",
        value=100.0,
        min_value=0.0,
        max_value=200.0,
        digits=1,
        container=left,
    )
    if right.button(t("packaging.ratio_save"), key=f"{P}_ratio_save", icon=":material/save:", disabled=percent is None):
        pk.save_ratio_answer(get_settings(), current_learner(), percent)
        st.success(t("packaging.ratio_saved", percent=percent), icon=":material/check:")


def _reduce_demo() -> None:
    from workbench.chapters.ch04_packaging import lab as pk

    st.subheader(t("packaging.reduce_title"))
    st.markdown(t("packaging.reduce_intro"))
    if st.button(t("packaging.reduce_run"), key=f"{P}_reduce_run", icon=":material/science:"):
        st.session_state[f"{P}_reduce"] = pk.reduce_demo(current_lang())
    demo = st.session_state.get(f"{P}_reduce")
    if demo is not None:
        left, right = st.columns(2)
        with left:
            st.markdown(t("packaging.reduce_pickle", size=demo.pickle_size))
            st.code(demo.disassembly, language="text")
            st.warning(
                t("packaging.reduce_printed", printed=demo.printed.strip(), loaded=demo.loaded),
                icon=":material/warning:",
            )
        with right:
            st.markdown(t("packaging.reduce_skops", types=", ".join(demo.skops_untrusted)))
            st.success(t("packaging.reduce_refused", error=demo.skops_refusal), icon=":material/shield:")
    show_code(pk.REDUCE_CODE)


# ----------------------------------------------------------------------------------------------
# The example package
# ----------------------------------------------------------------------------------------------


def package_tab() -> None:
    """The package's files, a real `python -m build`, the wheel and sdist contents, pytest with JUnit."""
    from workbench.chapters.ch04_packaging import lab as pk

    lang = current_lang()
    settings, learner = get_settings(), current_learner()
    dest = pk.package_dir(settings, learner)
    source = pk.package_source(settings)
    st.markdown(t("packaging.package_intro"))
    files = pk.package_files(source)
    left, right = st.columns([2, 3])
    with left:
        dataframe(_localised(files), key=f"{P}_pkg_files", height=360)
    chosen = right.selectbox(
        t("packaging.view_file"),
        list(files["path"]),
        key=f"{P}_pkg_file",
        index=list(files["path"]).index("pyproject.toml"),
    )
    path = source / chosen
    if path.suffix in (".skops",):
        right.info(t("packaging.binary_file", size=path.stat().st_size))
    else:
        language = {".py": "python", ".toml": "toml", ".md": "markdown", ".json": "json"}.get(path.suffix, "text")
        right.code(path.read_text(encoding="utf-8"), language=language, height=320)

    st.subheader(t("packaging.build_title"))
    offline = pk.backend_available()
    st.caption(t("packaging.build_mode_offline" if offline else "packaging.build_mode_isolated"))
    if st.button(t("packaging.build"), key=f"{P}_build", type="primary", icon=":material/inventory_2:"):
        with st.status(t("packaging.building"), expanded=True) as status:
            result = pk.build_package(dest, source, on_line=live_log(12))
            status.update(
                label=t("packaging.build_done" if result.ok else "packaging.build_failed", seconds=result.seconds),
                state="complete" if result.ok else "error",
            )
        st.session_state[f"{P}_build_result"] = result
        st.session_state.pop(f"{P}_test_report", None)
    build = st.session_state.get(f"{P}_build_result")
    if build is not None:
        _build_result(build, lang)
    show_code(pk.build_shell_command(not offline), language="bash")

    st.subheader(t("packaging.test_title"))
    has_wheel = any((dest / "dist").glob("*.whl"))
    if st.button(t("packaging.run_tests"), key=f"{P}_test", disabled=not has_wheel, icon=":material/checklist:"):
        with st.status(t("packaging.testing"), expanded=True) as status:
            try:
                report = pk.run_package_tests(dest, on_line=live_log(12))
            except pk.PackagingError as exc:
                status.update(state="error")
                st.error(exc.message(lang))
                return
            status.update(
                label=t("packaging.tests_done", seconds=report.seconds), state="complete" if report.ok else "error"
            )
        st.session_state[f"{P}_test_report"] = report
    if not has_wheel:
        st.caption(t("packaging.build_first"))
    report = st.session_state.get(f"{P}_test_report")
    if report is not None:
        _test_report(report, lang)
    show_code(pk.test_shell_command(), language="bash")
    show_code(pk.JUNIT_CODE, title=t("packaging.junit_code"))


def _build_result(build, lang: str) -> None:
    from workbench.chapters.ch04_packaging import lab as pk

    if not build.ok:
        st.error(t("packaging.build_error", code=build.returncode))
        st.code(build.log[-3000:], language="text")
        return
    st.success(
        t(
            "packaging.built",
            wheel=build.wheel.name,
            sdist=build.sdist.name,
            seconds=build.seconds,
            mode=t("packaging.mode_isolated" if build.isolated else "packaging.mode_offline"),
        ),
        icon=":material/check:",
    )
    left, right = st.columns(2)
    for column, archive, key in ((left, build.wheel, "wheel"), (right, build.sdist, "sdist")):
        with column:
            st.markdown(t(f"packaging.contents_{key}", name=archive.name, size=archive.stat().st_size / 1024))
            try:
                entries = pk.archive_contents(archive)
            except pk.PackagingError as exc:
                st.error(exc.message(lang))
                continue
            table = pd.DataFrame(
                {
                    t("packaging.col_file"): [e.name for e in entries],
                    t("packaging.col_bytes"): [e.size for e in entries],
                }
            )
            dataframe(table, key=f"{P}_{key}_contents")
    st.caption(t("packaging.wheel_vs_sdist"))
    with st.expander(t("packaging.build_log")):
        st.code(build.log[-6000:], language="text")


def _test_report(report, lang: str) -> None:
    from workbench.chapters.ch04_packaging import lab as pk

    cols = st.columns(4)
    cols[0].metric(t("packaging.tests"), report.tests)
    cols[1].metric(t("packaging.outcome_passed"), report.count("passed"))
    cols[2].metric(t("packaging.outcome_failed"), report.count("failed") + report.count("error"))
    cols[3].metric(t("packaging.outcome_skipped"), report.count("skipped"))
    if report.ok:
        st.success(t("packaging.tests_ok", n=report.tests, path=str(report.junit_path)), icon=":material/check:")
    else:
        st.error(t("packaging.tests_failed", code=report.returncode))
    dataframe(pk.junit_table(report, lang), key=f"{P}_junit_table")
    with st.expander(t("packaging.pytest_log")):
        st.code(report.log[-6000:], language="text")
    if report.junit_path.is_file():
        with st.expander(t("packaging.junit_xml")):
            st.code(report.junit_path.read_text(encoding="utf-8")[:8000], language="xml")


# ----------------------------------------------------------------------------------------------
# Environment
# ----------------------------------------------------------------------------------------------


def environment_tab() -> None:
    """This Python, its packages against requirements.txt, PATH and the variables that matter (read only)."""
    from workbench.chapters.ch04_packaging import lab as pk

    lang = current_lang()
    env = pk.python_environment()
    st.markdown(t("packaging.env_intro"))
    cols = st.columns(3)
    cols[0].metric(t("packaging.python_version"), env.version)
    cols[1].metric(t("packaging.in_venv"), t("packaging.answer_yes") if env.in_venv else t("packaging.answer_no"))
    cols[2].metric(t("packaging.installed_count"), len(pk.installed_distributions()))
    st.dataframe(
        pd.DataFrame(
            {
                t("packaging.col_what"): ["sys.executable", "sys.prefix", "sys.base_prefix", "site-packages"],
                t("packaging.col_value"): [env.executable, env.prefix, env.base_prefix, ", ".join(env.site_packages)],
            }
        ),
        hide_index=True,
        width="stretch",
        key=f"{P}_env_prefixes",
    )
    st.caption(t("packaging.venv_explained" if env.in_venv else "packaging.no_venv_explained"))

    st.subheader(t("packaging.requirements_title"))
    default = (get_settings().repo_root / "requirements.txt").read_text(encoding="utf-8")
    text = st.text_area(t("packaging.requirements_text"), default, height=200, key=f"{P}_requirements")
    installed = pk.installed_distributions()
    table = pk.compare_requirements(text, installed)
    counts = table["status"].value_counts()
    cols = st.columns(4)
    for col, status in zip(cols, ("pinned_ok", "pinned_differs", "missing", "unpinned")):
        col.metric(t(f"packaging.status_{status}"), int(counts.get(status, 0)))
    shown = table.assign(status=table["status"].map(lambda s: translate(f"packaging.status_{s}", lang)))
    dataframe(_localised(shown), key=f"{P}_requirements_table")
    indirect = pk.indirect_packages(table, installed)
    st.markdown(t("packaging.indirect", n=len(indirect), total=len(installed)))
    with st.expander(t("packaging.freeze_title", n=len(installed))):
        st.code(pk.freeze_text(installed), language="text")
    show_code(
        "python -m pip freeze > requirements-lock.txt\npython -m pip install -r requirements.txt", language="bash"
    )

    st.subheader(t("packaging.variables_title"))
    dataframe(_localised(pk.environment_variables()), key=f"{P}_variables")
    st.caption(t("packaging.secrets_hidden"))
    st.markdown(t("packaging.path_title"))
    path = pk.path_entries()
    dataframe(_localised(path), key=f"{P}_path")
    if env.in_venv and not path["in_this_env"].any():
        st.caption(t("packaging.not_activated", executable=env.executable))
    with st.expander(t("packaging.sys_path_title")):
        st.code("\n".join(env.sys_path), language="text")
    _model_path_demo()


def _model_path_demo() -> None:
    from workbench.chapters.ch04_packaging import lab as pk

    st.subheader(t("packaging.model_path_title"))
    st.markdown(t("packaging.model_path_intro"))
    site = pk.package_dir(get_settings(), current_learner()) / "site"
    override = st.text_input(
        t("packaging.model_path_override"), "", key=f"{P}_model_path_override", placeholder="/srv/models/model.skops"
    )
    if st.button(t("packaging.model_path_run"), key=f"{P}_model_path_run", icon=":material/terminal:"):
        try:
            st.session_state[f"{P}_model_path"] = pk.model_path_demo(Path(site), override.strip() or None)
        except pk.PackagingError as exc:
            st.session_state.pop(f"{P}_model_path", None)
            st.warning(exc.message(current_lang()))
    result = st.session_state.get(f"{P}_model_path")
    if result is not None:
        command, output = result
        st.code(f"$ {command}\n{output}", language="bash")
