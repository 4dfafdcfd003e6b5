"""Chapter V lab tabs: track, runs, registry, MLproject, MLflow UI (each with "show me the code")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.model_widgets import model_form
from workbench.ui.resources import course_data
from workbench.ui.widgets import dataframe, decimal_slider, live_log, number_field, show_code

P = get_chapter("ch05_mlflow").prefix  # widget key prefix, from the chapter


@dataclass(frozen=True)
class RegistryCode:
    """The registry action whose code the page shows (the learner's last one), with its values."""

    action: str = "load"
    values: dict = field(default_factory=dict)


def store_caption() -> None:
    """Which store the lab works on."""
    from workbench.core.tracking import EXPERIMENT

    st.caption(t("mlflow.store", uri=get_settings().mlflow_tracking_uri, experiment=EXPERIMENT))


def _error(exc: Exception) -> None:
    st.error(t("mlflow.error", error=error_text(exc)), icon=":material/error:")


# ----------------------------------------------------------------------------------------------
# Track
# ----------------------------------------------------------------------------------------------


def track_tab() -> None:
    """Train a model and log it as a run; grid search as parent and child runs."""
    from workbench.chapters.ch05_mlflow import tracking_code
    from workbench.core import tracking

    st.markdown(t("mlflow.track_intro"))
    model_name, params = model_form(f"{P}_track")
    run_name = st.text_input(t("mlflow.run_name"), key=f"{P}_run_name", max_chars=80)
    if st.button(t("mlflow.train_log"), key=f"{P}_train", type="primary", icon=":material/play_arrow:"):
        from workbench.core.modeling import train_model

        with st.status(t("mlflow.step_training"), expanded=True) as status:
            try:
                data = course_data()
                result = train_model(data, model_name, params)
                status.update(label=t("mlflow.step_logging"))
                logged = tracking.log_training_run(
                    result,
                    data,
                    current_learner(),
                    run_name=run_name.strip() or tracking.run_label(model_name, result.params),
                )
            except (tracking.TrackingError, OSError, ValueError) as exc:
                status.update(state="error")
                _error(exc)
                return
            status.update(
                label=t("mlflow.logged", name=logged.run_name, seconds=logged.seconds, run_id=logged.run_id),
                state="complete",
            )
        st.session_state[f"{P}_last_logged"] = logged
        forget_check_results("05_mlflow")
    logged = st.session_state.get(f"{P}_last_logged")
    if logged is not None:
        st.success(t("mlflow.logged", name=logged.run_name, seconds=logged.seconds, run_id=logged.run_id))
        cols = st.columns(5)
        for col, name in zip(cols, ("accuracy", "precision", "recall", "f1", "roc_auc")):
            col.metric(t(f"model.metric_{name}"), fmt.number(logged.metrics[name], current_lang(), 3))
    show_code(tracking_code.train_and_log_code(model_name, params, current_learner()))

    st.subheader(t("mlflow.grid_title"))
    total = sum(len(v) for v in tracking.DEFAULT_GRID.values())
    st.markdown(t("mlflow.grid_intro", n=total))
    if st.button(t("mlflow.grid_button"), key=f"{P}_grid", icon=":material/grid_view:"):
        bar = st.progress(0.0)

        def progress(done: int, total: int, label: str) -> None:
            bar.progress(done / total, text=t("mlflow.grid_progress", done=done, total=total, label=label))

        try:
            result = tracking.grid_search(course_data(), current_learner(), progress=progress)
        except (tracking.TrackingError, OSError, ValueError) as exc:
            _error(exc)
            return
        st.session_state[f"{P}_grid_result"] = result
    grid = st.session_state.get(f"{P}_grid_result")
    if grid is not None:
        best = grid.best
        st.success(t("mlflow.grid_done", name=best.run_name, f1=best.metrics["f1"], parent=grid.parent_run_id))
        dataframe(
            pd.DataFrame(
                [
                    {"run": c.run_name, **{t(f"model.metric_{k}"): v for k, v in c.metrics.items()}}
                    for c in grid.children
                ]
            ),
            formats={t(f"model.metric_{k}"): "number:3" for k in grid.best.metrics},
        )
    show_code(tracking_code.grid_search_code(), title=t("common.show_code") + " — " + t("mlflow.grid_title"))


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------


def load_runs() -> pd.DataFrame:
    """The runs of the course experiment the learner may see (class mode: their own), searched once per rerun."""
    from workbench.core import tracking

    return tracking.search_runs(learner=current_learner() if get_settings().class_mode else None)


METRIC_CHOICES = ("f1", "accuracy", "precision", "recall", "roc_auc")


def runs_tab(all_runs: pd.DataFrame) -> None:
    """Filtered runs table, comparison of selected runs, and one run's detail.

    Args:
        all_runs: `tracking.search_runs()` of this rerun, shared with the registry tab.
    """
    from workbench.chapters.ch05_mlflow import tracking_code
    from workbench.core import tracking
    from workbench.core.modeling import MODEL_NAMES

    lang = current_lang()
    learner = current_learner()
    left, middle, right, last = st.columns(4)
    who = left.selectbox(
        t("mlflow.filter_learner"),
        ["me"] if get_settings().class_mode else ["me", "everyone"],  # class mode: nobody sees others' runs
        key=f"{P}_filter_who",
        format_func=lambda w: (
            translate("mlflow.filter_me", lang, learner=learner)
            if w == "me"
            else translate("mlflow.filter_everyone", lang)
        ),
    )
    model = middle.selectbox(
        t("mlflow.filter_model"),
        ["", *MODEL_NAMES],
        key=f"{P}_filter_model",
        format_func=lambda m: translate(f"model.name_{m}", lang) if m else translate("mlflow.filter_all_models", lang),
    )
    metric = right.selectbox(
        t("mlflow.filter_metric"),
        METRIC_CHOICES,
        key=f"{P}_filter_metric",
        format_func=lambda m: translate(f"model.metric_{m}", lang),
    )
    minimum = decimal_slider(t("mlflow.filter_min"), 0.0, 1.0, 0.0, 0.01, key=f"{P}_filter_min", container=last)
    runs = tracking.filter_runs(
        all_runs,
        learner=learner if who == "me" else None,
        model=model or None,
        metric=metric,
        min_metric=minimum if minimum > 0 else None,
    )
    show_code(
        tracking_code.search_runs_code(
            learner if who == "me" else None, model or None, metric, minimum if minimum > 0 else None
        )
    )
    if runs.empty:
        st.info(t("mlflow.no_runs"))
        return
    table = _runs_table(runs, lang)
    st.caption(t("mlflow.runs_count", n=len(runs)))
    created = translate("mlflow.col_created", lang)
    dataframe(
        table,
        formats={
            created: lambda d: fmt.date_time(d, lang, short=True),
            **{c: "number:3" for c in table.columns if c in _metric_labels(lang)},
        },
        key=f"{P}_runs_table",
        column_config={"run_id": None},
    )
    names = dict(zip(runs["run_id"], table["run"]))
    selected = st.multiselect(
        t("mlflow.compare_pick"),
        list(names),
        format_func=names.get,
        key=f"{P}_compare_pick",
        max_selections=10,
        placeholder=t("common.choose"),
    )
    if st.button(
        t("mlflow.compare_button", n=len(selected)),
        key=f"{P}_compare",
        icon=":material/compare_arrows:",
        disabled=len(selected) < 2,
    ):
        tracking.record_comparison(get_settings(), learner, selected)
        st.session_state[f"{P}_compared"] = selected
    compared = [r for r in st.session_state.get(f"{P}_compared", []) if r in set(runs["run_id"])]
    if len(compared) >= 2:
        _comparison(compared, lang)

    st.subheader(t("mlflow.detail_title"))
    run_id = st.selectbox(t("mlflow.detail_pick"), list(names), format_func=names.get, key=f"{P}_detail_run")
    if run_id:
        _run_detail(run_id, lang)
        _mark_best(run_id, runs, learner)


def _mark_best(run_id: str, runs: pd.DataFrame, learner: str) -> None:
    """Tag the shown run as the learner's best (one of their own runs only)."""
    from workbench.core import tracking

    owner = runs.set_index("run_id")["learner"].get(run_id)
    if owner != learner:
        return
    if run_id in tracking.best_runs(learner):
        st.caption(t("mlflow.marked_best"))
    elif st.button(t("mlflow.mark_best"), key=f"{P}_mark_best", icon=":material/star:"):
        try:
            tracking.mark_best_run(run_id, learner)
        except tracking.TrackingError as exc:
            _error(exc)
            return
        forget_check_results("05_mlflow")
        st.rerun()
    show_code(f'from mlflow import MlflowClient\n\nMlflowClient().set_tag("{run_id}", "best", "true")')


def _runs_table(runs: pd.DataFrame, lang: str) -> pd.DataFrame:
    from workbench.core import tracking

    table = pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "run": tracking.run_labels(list(runs["run_id"]), list(runs["run_name"])),
            translate("mlflow.filter_model", lang): runs["model"].map(
                lambda m: translate(f"model.name_{m}", lang) if isinstance(m, str) and m else ""
            ),
            translate("mlflow.col_learner", lang): runs["learner"],
        }
    )
    for metric in METRIC_CHOICES:
        column = f"metrics.{metric}"
        if column in runs:
            table[translate(f"model.metric_{metric}", lang)] = runs[column].round(3)
    table[translate("mlflow.col_created", lang)] = pd.to_datetime(runs["start_time"])
    return table


def _metric_labels(lang: str) -> set[str]:
    return {translate(f"model.metric_{metric}", lang) for metric in METRIC_CHOICES}


def _comparison(run_ids: list[str], lang: str) -> None:
    from workbench.chapters.ch05_mlflow import tracking_code
    from workbench.core import tracking

    try:
        comparison = tracking.compare_runs(run_ids, learner=current_learner())
    except tracking.TrackingError as exc:
        _error(exc)
        return
    st.subheader(t("mlflow.compare_title"))
    st.caption(t("mlflow.params_diff"))
    differing = set(comparison.differing_params)
    st.dataframe(
        comparison.params.astype(str)
        .replace("nan", "")
        .style.apply(lambda row: ["background-color: #fff3bf" if row.name in differing else "" for _ in row], axis=1),
        width="stretch",
    )
    st.caption(t("mlflow.metric_bars"))
    st.plotly_chart(tracking.metric_bars_figure(comparison, lang), width="stretch", key=f"{P}_bars")
    st.caption(t("mlflow.parallel"))
    st.plotly_chart(tracking.parallel_coordinates_figure(comparison, lang), width="stretch", key=f"{P}_parallel")
    show_code(tracking_code.compare_code(run_ids))


def _run_detail(run_id: str, lang: str) -> None:
    import plotly.io as pio

    from workbench.core import tracking
    from workbench.core.tracking import MODEL_FILES

    try:
        detail = tracking.run_detail(run_id, lang, learner=current_learner())
    except tracking.TrackingError as exc:
        _error(exc)
        return
    left, middle, right = st.columns(3)
    value = t("mlflow.col_value")
    with left:
        st.markdown(f"**{t('mlflow.params')}**")
        st.dataframe(pd.Series(detail.params, name=value), width="stretch")
    with middle:
        st.markdown(f"**{t('mlflow.metrics')}**")
        dataframe(pd.Series(detail.metrics, name=value).to_frame(), hide_index=False)
    with right:
        st.markdown(f"**{t('mlflow.tags')}**")
        st.dataframe(pd.Series(detail.tags, name=value), width="stretch")
    if detail.inputs:
        st.caption(t("mlflow.dataset", datasets=", ".join(detail.inputs)))
    if detail.figures:
        columns = st.columns(len(detail.figures))
        for column, (name, figure_json) in zip(columns, detail.figures.items()):
            column.plotly_chart(pio.from_json(figure_json), width="stretch", key=f"{P}_detail_{name}")
    with st.expander(t("mlflow.artifacts"), icon=":material/folder:"):
        st.write(detail.artifacts)
    if detail.model_uri:
        st.markdown(f"**{t('mlflow.model_folder', uri=detail.model_uri)}**")
        st.dataframe(
            pd.DataFrame(
                {
                    t("mlflow.file"): [name for name, _ in detail.model_files],
                    t("mlflow.size"): [size for _, size in detail.model_files],
                    t("mlflow.purpose"): [
                        t(f"mlflow.{MODEL_FILES.get(name, 'model_file_other')}") for name, _ in detail.model_files
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        with st.expander("MLmodel", icon=":material/description:"):
            st.code(detail.mlmodel, language="yaml")


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------


def registry_tab(all_runs: pd.DataFrame) -> None:
    """Register a run's model, list versions, move aliases, promote, roll back, edit descriptions.

    Args:
        all_runs: `tracking.search_runs()` of this rerun, shared with the runs tab.
    """
    from workbench.chapters.ch05_mlflow import tracking_code
    from workbench.core import tracking

    settings = get_settings()
    learner = current_learner()
    model_name = settings.learner_model_name(learner)  # class mode: the learner's own registered model
    st.markdown(t("mlflow.registry_intro", name=model_name))
    st.info(t("mlflow.aliases_note"), icon=":material/info:")

    feedback = st.session_state.pop(f"{P}_registry_feedback", None)
    if feedback:
        st.success(feedback)

    st.subheader(t("mlflow.register_title"))
    runs = tracking.filter_runs(all_runs, learner=learner)
    if runs.empty:
        st.info(t("mlflow.no_runs"))
    else:
        lang = current_lang()
        names = pd.Series(tracking.run_labels(list(runs["run_id"]), list(runs["run_name"])), index=runs.index)
        labels = dict(zip(runs["run_id"], names + " · F1 " + runs["metrics.f1"].map(lambda v: fmt.number(v, lang, 3))))
        run_id = st.selectbox(t("mlflow.register_pick"), list(labels), format_func=labels.get, key=f"{P}_register_run")
        description = st.text_input(t("mlflow.description"), key=f"{P}_register_description", max_chars=200)
        if st.button(t("mlflow.register_button"), key=f"{P}_register", icon=":material/add_box:"):
            try:
                version = tracking.register_run_model(run_id, learner, description.strip())
            except tracking.TrackingError as exc:
                _error(exc)
            else:
                st.session_state[f"{P}_registry_feedback"] = t(
                    "mlflow.registered", version=version.version, name=model_name
                )
                st.session_state[f"{P}_last_code"] = RegistryCode(
                    "register", {"run_id": run_id, "description": description}
                )
                st.rerun()

    st.subheader(t("mlflow.versions_title"))
    versions = tracking.list_versions(learner=learner)
    production = tracking.resolve_alias("production", learner=learner)
    st.markdown(t("mlflow.production_is", version=production) if production else t("mlflow.production_none"))
    if not versions:
        st.info(t("mlflow.no_versions"))
        return
    lang = current_lang()
    dataframe(
        pd.DataFrame(
            {
                t("mlflow.col_version"): [v.version for v in versions],
                t("mlflow.col_aliases"): [", ".join(f"@{a}" for a in v.aliases) for v in versions],
                "F1": [v.metrics.get("f1", float("nan")) for v in versions],
                t("model.metric_accuracy"): [v.metrics.get("accuracy", float("nan")) for v in versions],
                t("mlflow.col_learner"): [v.tags.get("learner", "") for v in versions],
                t("mlflow.description"): [v.description for v in versions],
                t("mlflow.col_created"): [dt.datetime.fromtimestamp(v.created) for v in versions],
            }
        ),
        formats={
            "F1": "number:3",
            t("model.metric_accuracy"): "number:3",
            t("mlflow.col_created"): lambda d: fmt.date_time(d, lang, short=True),
        },
    )

    st.subheader(t("mlflow.alias_title"))
    numbers = [v.version for v in versions]
    col_alias, col_version = st.columns(2)
    alias = col_alias.selectbox(t("mlflow.alias_pick"), tracking.ALIASES, key=f"{P}_alias")
    version = col_version.selectbox(t("mlflow.version_pick"), numbers, key=f"{P}_alias_version")
    b1, b2 = st.columns(2)  # two per row: the labels stay readable in both languages
    b3, b4 = st.columns(2)
    action = None
    if b1.button(t("mlflow.set_alias"), key=f"{P}_set_alias", icon=":material/label:"):
        action = (
            "set_alias",
            lambda: tracking.set_alias(alias, version, learner),
            t("mlflow.alias_set", alias=alias, version=version),
            {"alias": alias, "version": version},
        )
    if b2.button(t("mlflow.delete_alias"), key=f"{P}_delete_alias", icon=":material/label_off:"):
        action = (
            "delete_alias",
            lambda: tracking.delete_alias(alias, learner),
            t("mlflow.alias_deleted", alias=alias),
            {"alias": alias},
        )
    if b3.button(t("mlflow.promote"), key=f"{P}_promote", type="primary", icon=":material/rocket_launch:"):
        action = ("promote", lambda: tracking.promote_staging(learner), "mlflow.promoted", {})
    if b4.button(t("mlflow.rollback"), key=f"{P}_rollback", icon=":material/undo:"):
        action = ("rollback", lambda: tracking.rollback_production(learner), "mlflow.rolled_back", {})
    if action is not None:
        name, run, message, values = action
        try:
            result = run()
        except tracking.TrackingError as exc:
            _error(exc)
        else:
            if message.startswith("mlflow."):
                message = t(message, version=result)
                values = {"version": result}
            st.session_state[f"{P}_registry_feedback"] = message
            st.session_state[f"{P}_last_code"] = RegistryCode(name, values)
            st.rerun()

    with st.expander(t("mlflow.edit_description"), icon=":material/edit:"):
        chosen = st.selectbox(t("mlflow.version_pick"), numbers, key=f"{P}_describe_version")
        current = next(v.description for v in versions if v.version == chosen)
        text = st.text_area(t("mlflow.description"), value=current, key=f"{P}_describe_text_{chosen}", max_chars=500)
        if st.button(t("mlflow.save_description"), key=f"{P}_describe_save"):
            tracking.set_description(chosen, text.strip(), learner=learner)
            st.session_state[f"{P}_registry_feedback"] = t("mlflow.description_saved")
            st.rerun()

    history = tracking.production_history(learner=learner)
    if history:
        with st.expander(t("mlflow.history_title"), icon=":material/history:"):
            table = pd.DataFrame(history)
            table = table.assign(
                action=table["action"].map(lambda a: t(f"mlflow.haction_{a}")),
                at=table["at"].map(lambda at: fmt.date_time(at, current_lang(), short=True)),
            ).rename(columns=lambda c: t(f"mlflow.hcol_{c}"))
            dataframe(
                table,
                formats={
                    c: "integer"
                    for c in (t("mlflow.hcol_version"), t("mlflow.hcol_previous"), t("mlflow.hcol_from"))
                    if c in table
                },
            )
    last: RegistryCode = st.session_state.get(f"{P}_last_code", RegistryCode())
    show_code(tracking_code.registry_code(last.action, learner=learner, **last.values))
    if last.action != "load":
        show_code(
            tracking_code.registry_code("load", learner=learner),
            title=f"{t('common.show_code')} — models:/…@production",
        )


# ----------------------------------------------------------------------------------------------
# MLproject
# ----------------------------------------------------------------------------------------------


def project_tab() -> None:
    """Show the MLproject file, run it with chosen parameters, stream the log, link the run."""
    from workbench.chapters.ch05_mlflow import mlproject

    st.markdown(t("mlflow.project_intro"))
    st.code(mlproject.project_text(), language="yaml")
    model_name, params = model_form(f"{P}_project")
    project_params = {"model": model_name, **params, "learner": current_learner()}
    st.code(mlproject.shell_command(project_params), language="bash")
    if st.button(t("mlflow.project_run"), key=f"{P}_project_run", type="primary", icon=":material/terminal:"):
        with st.spinner(t("mlflow.project_running")):
            result = mlproject.run_project(project_params, on_line=live_log(40, every=1))
        st.session_state[f"{P}_project_result"] = result
    result = st.session_state.get(f"{P}_project_result")
    if result is not None:
        if result.succeeded:
            st.success(t("mlflow.project_ok", run_id=result.run_id))
        else:
            st.error(t("mlflow.project_failed", code=result.returncode))
        with st.expander("log", icon=":material/article:"):
            st.code(result.log[-20_000:], language="text")
    own_mlproject_section()


def own_mlproject_section() -> None:
    """The learner's own MLproject: an editor saved as a learner record, and "try it" (a real `mlflow run`)."""
    from workbench.chapters.ch05_mlflow import own_mlproject
    from workbench.core.exercises import CheckContext
    from workbench.ui.widgets import monospace_editor

    settings, learner = get_settings(), current_learner()
    st.subheader(t("mlflow_own.mlp_title"))
    if settings.class_mode:
        st.info(t("api.code_check_class_mode"), icon=":material/dns:")
    st.markdown(t("mlflow_own.mlp_intro"))
    key = f"{P}_own_mlproject"
    if key not in st.session_state:
        st.session_state[key] = own_mlproject.load_text(settings, learner)
    monospace_editor(key)
    text = st.text_area(t("mlflow_own.mlp_editor"), key=key, height=360)
    save, try_it, reset = st.columns(3)
    saved = save.button(t("mlflow_own.mlp_save"), key=f"{P}_own_mlproject_save", icon=":material/save:")
    tried = try_it.button(
        t("mlflow_own.mlp_try"),
        key=f"{P}_own_mlproject_try",
        type="primary",
        icon=":material/terminal:",
        disabled=settings.class_mode,
    )
    reset.button(
        t("mlflow_own.mlp_reset"),
        key=f"{P}_own_mlproject_reset",
        icon=":material/restart_alt:",
        on_click=st.session_state.update,  # the editor shows the skeleton again; saved only on "Save"
        args=({key: own_mlproject.TEMPLATE},),
    )
    if saved or tried:
        try:
            own_mlproject.save_text(settings, learner, text)
        except ValueError:
            st.error(t("mlflow_own.mlp_too_big"))
            return
        forget_check_results("05_mlflow")
        st.success(t("mlflow_own.mlp_saved"), icon=":material/check:")
    if tried:
        with st.spinner(t("mlflow_own.mlp_trying")):
            ctx = CheckContext(learner, current_lang(), settings)
            st.session_state[f"{P}_own_mlproject_result"] = own_mlproject.try_project(ctx, text, live_log(30, every=1))
    outcome = st.session_state.get(f"{P}_own_mlproject_result")
    if outcome is not None:
        result, run = outcome
        if result.passed:
            st.success(result.detail, icon=":material/check_circle:")
        else:
            st.error("\n\n".join(result.missing), icon=":material/error:")
        if run is not None:
            with st.expander("mlflow run log", icon=":material/article:"):
                st.code(run.log[-20_000:], language="text")


# ----------------------------------------------------------------------------------------------
# MLflow UI
# ----------------------------------------------------------------------------------------------


def ui_tab() -> None:
    """Start and stop the real `mlflow ui` on the workbench's store."""
    from workbench.chapters.ch05_mlflow import tracking_code
    from workbench.core import mlflow_ui, services

    settings = get_settings()
    if settings.class_mode:  # MLflow's own UI shows every learner's runs and lets anyone move any alias
        st.info(t("mlflow.ui_class_mode"), icon=":material/group:")
        return
    st.markdown(t("mlflow.ui_intro"))
    current = services.status(settings, mlflow_ui.SERVICE)
    port = number_field(
        t("mlflow.ui_port"),
        key=f"{P}_ui_port",
        value=settings.mlflow_ui_port,
        min_value=1024,
        max_value=65535,
        integer=True,
        disabled=current.running,
    )
    if port is None:
        return
    start_col, stop_col, refresh_col = st.columns(3)
    if start_col.button(
        t("mlflow.ui_start"),
        key=f"{P}_ui_start",
        disabled=current.running,
        type="primary",
        icon=":material/play_arrow:",
    ):
        with st.spinner(t("mlflow.ui_starting")):
            try:
                mlflow_ui.start_ui(int(port), settings)
            except RuntimeError as exc:
                st.session_state[f"{P}_ui_error"] = exc  # shown after the rerun, in the language of that moment
            else:
                st.session_state.pop(f"{P}_ui_error", None)
        st.rerun()
    if stop_col.button(t("mlflow.ui_stop"), key=f"{P}_ui_stop", disabled=not current.running, icon=":material/stop:"):
        services.stop(settings, mlflow_ui.SERVICE)
        st.rerun()
    refresh_col.button(t("mlflow.ui_refresh"), key=f"{P}_ui_refresh", icon=":material/refresh:")
    if error := st.session_state.get(f"{P}_ui_error"):
        st.error(t("mlflow.ui_failed", error=error_text(error)))
    if current.running and current.healthy:
        st.success(
            t("mlflow.ui_running", pid=current.pid, url=current.url, link=mlflow_ui.runs_url(current.url, settings))
        )
    elif current.running:
        st.warning(t("mlflow.ui_unhealthy", pid=current.pid, url=current.url))
    else:
        st.info(t("mlflow.ui_stopped"))
    show_code(tracking_code.mlflow_ui_code(int(port)), language="bash")


def render_lab(chapter) -> None:
    """The MLflow lab: the runs are searched once, after training (so a new run shows at once), for two tabs."""
    store_caption()
    track, runs, registry, project, ui = st.tabs([t(tab.label) for tab in chapter.tabs])
    with track:
        track_tab()
    all_runs = load_runs()
    with runs:
        runs_tab(all_runs)
    with registry:
        registry_tab(all_runs)
    with project:
        project_tab()
    with ui:
        ui_tab()
