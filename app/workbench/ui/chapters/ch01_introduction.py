"""Chapter I lab widgets: the lifecycle explorer and the first-model trainer."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench.chapters import to_roman
from workbench.core.i18n import pick
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.model_widgets import model_form, show_evaluation
from workbench.ui.resources import course_data, loaded_file
from workbench.ui.widgets import dataframe, show_code


def _load_stages(path: Path) -> list:
    from workbench.chapters.ch03_deployment_challenges.lifecycle import load_stages

    return load_stages(path.parent)


def lifecycle_explorer(prefix: str, production: bool = False) -> None:
    """The clickable lifecycle cycle with the selected stage's details (`prefix` keys the widgets).

    `production`: show what goes wrong with the stage once the model is live (chapter III) instead of its
    challenges and roles (chapter I), so the two chapters do not repeat each other.
    """
    from workbench.chapters.ch03_deployment_challenges.lifecycle import lifecycle_figure

    lang = current_lang()
    lessons_dir = get_settings().lessons_dir
    stages = loaded_file("lifecycle_stages", lessons_dir / "lifecycle.yaml", _load_stages)
    ids = [s.id for s in stages]
    picker_key, seen_key = f"{prefix}_stage", f"{prefix}_stages_seen"
    st.session_state.setdefault(picker_key, ids[0])
    st.caption(t("intro.lifecycle_help"))

    event = st.plotly_chart(
        lifecycle_figure(stages, lang, st.session_state[picker_key]),
        key=f"{prefix}_lifecycle_chart",
        on_select="rerun",
        selection_mode="points",
        width="stretch",
        config={"displayModeBar": False},
    )
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    clicked = points[0].get("customdata") if points else None
    if clicked in ids and clicked != st.session_state.get(f"{prefix}_last_click"):
        st.session_state[f"{prefix}_last_click"] = clicked
        st.session_state[picker_key] = clicked
        st.rerun()

    selected = st.segmented_control(
        t("intro.stage_picker"),
        ids,
        key=picker_key,
        required=True,
        format_func=lambda i: f"{ids.index(i) + 1}. {pick(stages[ids.index(i)].name, lang)}",
    )
    stage = stages[ids.index(selected)]
    seen = st.session_state.setdefault(seen_key, set())
    seen.add(stage.id)

    with st.container(border=True):
        st.subheader(f"{ids.index(stage.id) + 1}. {pick(stage.name, lang)}")
        st.markdown(pick(stage.summary, lang))
        left, right = st.columns(2)
        points = stage.production.get(lang, []) if production else stage.challenges[lang]
        title = t("intro.in_production") if production else t("intro.challenges")
        left.markdown(f"**{title}**\n\n" + "\n".join(f"- {c}" for c in points))
        right.markdown(f"**{t('intro.artefacts')}**\n\n" + "\n".join(f"- {a}" for a in stage.artefacts[lang]))
        left.markdown(f"**{t('intro.roles')}** — {pick(stage.roles, lang)}")
        right.markdown(f"**{t('intro.mlops')}** — {pick(stage.mlops, lang)}")
        st.caption(t("intro.practised_in", chapters=", ".join(to_roman(c) for c in stage.chapters)))
    st.caption(t("intro.stages_seen", n=len(seen), total=len(stages)))


def first_model_lab(prefix: str) -> None:
    """Train a model on the course data in one click, compare it with the baseline, keep a history."""
    from workbench.chapters.ch01_introduction import lab as intro
    from workbench.core.data import TARGET

    try:
        data = course_data()
    except (OSError, ValueError) as exc:
        st.error(t("intro.data_error", error=error_text(exc)))
        return
    st.markdown(t("intro.first_model_intro", rows=len(data), rate=round(100 * (data[TARGET] == "Y").mean())))
    model_name, params = model_form(prefix)
    if st.button(t("intro.train_button"), key=f"{prefix}_train", type="primary", icon=":material/model_training:"):
        from workbench.core.modeling import train_model

        with st.spinner(t("intro.training")):
            result = train_model(data, model_name, params)
        intro.record_first_model(get_settings(), current_learner(), intro.training_summary(result))
        st.session_state[f"{prefix}_result"] = result
        forget_check_results("01_introduction")

    result = st.session_state.get(f"{prefix}_result")
    if result is not None:
        from workbench.core.modeling import training_code

        st.success(
            t("intro.trained", n_train=result.n_train, seconds=result.train_seconds, n_test=result.evaluation.n_test)
        )
        acc, base = result.metrics["accuracy"], result.evaluation.baseline["accuracy"]
        (st.info if acc > base else st.warning)(
            t("intro.beats_baseline" if acc > base else "intro.below_baseline", accuracy=acc, baseline=base)
        )
        if result.train_metrics:
            st.caption(
                t(
                    "intro.generalisation",
                    train=result.train_metrics["accuracy"],
                    test=acc,
                    gap=100 * (result.train_metrics["accuracy"] - acc),
                )
            )
        show_evaluation(result)
        show_code(training_code(result.model_name, result.params, seed=result.seed))

    history = intro.load_first_models(get_settings(), current_learner())
    with st.expander(t("intro.history_title"), icon=":material/history:"):
        if not history:
            st.caption(t("intro.history_empty"))
        else:
            import pandas as pd

            dataframe(
                pd.DataFrame(
                    [
                        {
                            t("intro.model_family"): t(f"model.name_{h['model']}"),
                            t("model.metric_accuracy"): round(h["metrics"]["accuracy"], 3),
                            t("model.metric_f1"): round(h["metrics"]["f1"], 3),
                            t("model.metric_roc_auc"): round(h["metrics"]["roc_auc"], 3),
                            t("intro.train_accuracy"): round(h["train_metrics"]["accuracy"], 3)
                            if h.get("train_metrics")
                            else None,
                            t("model.baseline"): round(h["baseline"]["accuracy"], 3),
                        }
                        for h in reversed(history)
                    ]
                ),
            )
