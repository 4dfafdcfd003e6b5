"""Shared modeling widgets: a model/hyperparameter form, evaluation display (the course data: ui/resources.py)."""

from __future__ import annotations

import math

import streamlit as st

from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.ui.context import current_lang, t
from workbench.ui.widgets import dataframe, decimal_slider


def model_form(prefix: str, default_model: str = "logistic_regression") -> tuple[str, dict]:
    """Model family selector and its hyperparameter sliders; widget keys start with `prefix`."""
    from workbench.core.modeling import MODEL_NAMES, MODEL_SPECS

    lang = current_lang()  # captured: format_func may be called outside the script run
    model_name = st.selectbox(
        t("intro.model_family"),
        MODEL_NAMES,
        index=MODEL_NAMES.index(default_model),
        format_func=lambda m: translate(f"model.name_{m}", lang),
        key=f"{prefix}_model",
    )
    params: dict = {}
    columns = st.columns(len(MODEL_SPECS[model_name].params))
    for column, spec in zip(columns, MODEL_SPECS[model_name].params):
        label = t(f"model.param_{spec.name}")
        key = f"{prefix}_{model_name}_{spec.name}"
        with column:
            if spec.kind == "int":
                params[spec.name] = st.slider(
                    label, int(spec.low), int(spec.high), int(spec.default), int(spec.step), key=key
                )
            elif spec.kind == "log_float":
                exponents = [
                    round(x * 0.5, 1) for x in range(int(2 * math.log10(spec.low)), int(2 * math.log10(spec.high)) + 1)
                ]
                exponent = st.select_slider(
                    label,
                    exponents,
                    value=round(math.log10(spec.default), 1),
                    key=key,
                    format_func=lambda e: fmt.format_value(10**e, "g", lang),
                )
                params[spec.name] = float(10**exponent)
            else:
                params[spec.name] = decimal_slider(
                    label, float(spec.low), float(spec.high), float(spec.default), float(spec.step), key=key
                )
    return model_name, params


def show_evaluation(result) -> None:
    """Metrics beside the baseline, confusion matrix and ROC curve of a `TrainResult`."""
    from workbench.core.modeling import confusion_matrix_figure, metrics_table, roc_figure

    lang = current_lang()
    evaluation = result.evaluation
    cols = st.columns(4)
    for col, name in zip(cols, ("accuracy", "precision", "recall", "f1")):
        delta = evaluation.metrics[name] - evaluation.baseline[name]
        col.metric(
            t(f"model.metric_{name}"), fmt.percent(evaluation.metrics[name], lang), t("model.vs_baseline", delta=delta)
        )
    dataframe(metrics_table(evaluation, lang), {t("model.this_model"): "number:3", t("model.baseline"): "number:3"})
    left, right = st.columns(2)
    left.plotly_chart(confusion_matrix_figure(evaluation, lang), width="stretch")
    right.plotly_chart(roc_figure(evaluation, lang), width="stretch")
