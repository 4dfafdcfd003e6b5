"""Chapter XI lab: the Responsible-AI tab — fairness and one mitigation, explanations, model card, signing."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from workbench.core import formatting as fmt
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.exercise_panel import forget_check_results
from workbench.ui.resources import course_data
from workbench.ui.widgets import dataframe, plotly_chart, show_code

P = "ch11_rai"
CHAPTER = "11_post_production"
SUBJECT = f"{P}_subject"


def _error(exc: Exception) -> None:
    st.error(t("responsible.error", error=error_text(exc)), icon=":material/error:")


def _group(name: str) -> str:
    from workbench.chapters.ch11_post_production.responsible import MISSING

    return t("responsible.missing_group") if name == MISSING else name


def _points(value: float) -> str:
    return "—" if value is None or math.isnan(value) else fmt.points(value, current_lang(), sign=False)


def responsible_tab() -> None:
    """Pick the model under review, then fairness, explanations, model card and signing as sub-tabs."""
    st.markdown(t("responsible.intro"))
    subject = _subject_picker()
    if subject is None:
        return
    tabs = st.tabs(
        [
            t("responsible.sub_fairness"),
            t("responsible.sub_explain"),
            t("responsible.sub_card"),
            t("responsible.sub_sign"),
        ]
    )
    for tab, render in zip(tabs, (_fairness, _explanations, _card, _signing)):
        with tab:
            render(subject)


def _subject_picker():
    from workbench.chapters.ch11_post_production import responsible as rai
    from workbench.core.safe_models import ModelRefused

    if st.button(t("responsible.load"), key=f"{P}_load", type="primary"):
        with st.spinner(t("responsible.loading")):
            try:
                st.session_state[SUBJECT] = rai.load_subject(course_data(), get_settings())
                for key in (f"{P}_mitigation", f"{P}_importance"):
                    st.session_state.pop(key, None)
            except ModelRefused as exc:
                st.error(exc.message(current_lang()), icon=":material/gpp_bad:")
            except (rai.ResponsibleError, OSError, ValueError) as exc:
                _error(exc)
    subject = st.session_state.get(SUBJECT)
    if subject is None:
        st.info(t("responsible.load_first"), icon=":material/info:")
        return None
    key = "responsible.subject_registry" if subject.source == "registry" else "responsible.subject_course"
    st.success(t(key, label=subject.label, n=len(subject.X_test)), icon=":material/fact_check:")
    return subject


# ----------------------------------------------------------------------------------------------
# Fairness
# ----------------------------------------------------------------------------------------------


def _fairness(subject) -> None:
    from workbench.chapters.ch11_post_production import responsible as rai

    st.markdown(t("responsible.fair_intro"))
    left, middle, right = st.columns(3)
    attribute = left.selectbox(t("responsible.attribute"), rai.ATTRIBUTES, key=f"{P}_attribute")
    min_group = middle.slider(t("responsible.min_group"), 2, 50, rai.MIN_GROUP, key=f"{P}_min_group")
    exclude = right.checkbox(t("responsible.exclude_missing"), key=f"{P}_exclude_missing")
    try:
        report = rai.review_fairness(subject, attribute, min_group=min_group, exclude_missing=exclude)
    except rai.ResponsibleError as exc:
        _error(exc)
        return
    cols = st.columns(4)
    low, high = report.dp_interval
    cols[0].metric(t("responsible.dp"), _points(report.dp_difference), help=t("responsible.dp_help"))
    cols[0].caption(t("responsible.dp_interval", low=_points(low), high=_points(high)))
    cols[1].metric(t("responsible.eo"), _points(report.eo_difference), help=t("responsible.eo_help"))
    cols[2].metric(t("responsible.accuracy"), fmt.percent(report.accuracy, current_lang()))
    cols[3].metric(t("responsible.approval"), fmt.percent(report.approval_rate, current_lang()))
    _group_table(report)
    plotly_chart(_group_figure(report))
    if report.left_out:
        st.warning(
            t("responsible.left_out", groups=", ".join(_group(g) for g in report.left_out), n=min_group),
            icon=":material/groups:",
        )
    if exclude:
        st.caption(t("responsible.excluded_note"))
    st.caption(t("responsible.noise_note", n=len(subject.X_test)))
    st.divider()
    _mitigation(subject, attribute, min_group, exclude)


def _group_table(report) -> None:
    table = report.by_group.assign(group=report.by_group["group"].map(_group))
    table["compared"] = table["compared"].map(lambda v: t("responsible.yes") if v else t("responsible.no"))
    names = {c: t(f"responsible.col_{c}") for c in table.columns}
    formats = {names[c]: "percent" for c in ("selection_rate", "tpr", "fpr", "accuracy")}
    dataframe(table.rename(columns=names), formats)


def _group_figure(report) -> go.Figure:
    groups = [_group(g) for g in report.by_group["group"]]
    fig = go.Figure()
    for column in ("selection_rate", "tpr", "fpr"):
        fig.add_bar(name=t(f"responsible.col_{column}"), x=groups, y=report.by_group[column])
    fig.update_layout(
        barmode="group",
        height=300,
        margin=dict(l=10, r=10, t=30, b=10),
        yaxis=dict(range=[0, 1], tickformat=".0%"),
        separators=", " if current_lang() == "fr" else ".,",
        title=t("responsible.figure_title", attribute=report.attribute),
    )
    return fig


def _mitigation(subject, attribute: str, min_group: int, exclude: bool) -> None:
    from workbench.chapters.ch11_post_production import responsible as rai

    st.subheader(t("responsible.mitigate_title"))
    st.markdown(t("responsible.mitigate_intro"))
    constraint = st.radio(
        t("responsible.constraint"),
        rai.CONSTRAINTS,
        format_func={c: t(f"responsible.constraint_{c}") for c in rai.CONSTRAINTS}.__getitem__,
        key=f"{P}_constraint",
        horizontal=True,
    )
    if st.button(t("responsible.mitigate"), key=f"{P}_mitigate"):
        try:
            result = rai.mitigate(subject, attribute, constraint, min_group=min_group, exclude_missing=exclude)
        except rai.ResponsibleError as exc:
            _error(exc)
            return
        st.session_state[f"{P}_mitigation"] = result
        rai.save_choice(get_settings(), current_learner(), attribute, constraint, exclude)
        forget_check_results(CHAPTER)
    result = st.session_state.get(f"{P}_mitigation")
    if result is None:
        return
    lang = current_lang()
    b, a = result.before, result.after
    rows = [
        (t("responsible.dp"), _points(b.dp_difference), _points(a.dp_difference)),
        (t("responsible.eo"), _points(b.eo_difference), _points(a.eo_difference)),
        (t("responsible.accuracy"), fmt.percent(b.accuracy, lang), fmt.percent(a.accuracy, lang)),
        (t("responsible.approval"), fmt.percent(b.approval_rate, lang), fmt.percent(a.approval_rate, lang)),
        (t("responsible.profit"), fmt.number(result.profit_before, lang, 1), fmt.number(result.profit_after, lang, 1)),
    ]
    st.markdown(
        t("responsible.cost_title", attribute=b.attribute, constraint=t(f"responsible.constraint_{result.constraint}"))
    )
    st.table(
        pd.DataFrame(
            rows, columns=[t("responsible.measure"), t("responsible.before"), t("responsible.after")]
        ).set_index(t("responsible.measure"))
    )
    _group_table(a)
    if result.dropped:
        st.caption(t("responsible.dropped_note", groups=", ".join(_group(g) for g in result.dropped)))
    st.caption(t("responsible.profit_note"))
    st.warning(t("responsible.mitigate_law"), icon=":material/gavel:")


# ----------------------------------------------------------------------------------------------
# Explanations
# ----------------------------------------------------------------------------------------------


def _explanations(subject) -> None:
    from workbench.chapters.ch11_post_production import responsible as rai

    lang = current_lang()
    st.subheader(t("responsible.importance_title"))
    st.markdown(t("responsible.importance_intro"))
    if st.button(t("responsible.importance_run"), key=f"{P}_importance_run"):
        with st.spinner(t("responsible.importance_running")):
            st.session_state[f"{P}_importance"] = rai.permutation_importances(subject)
    importance = st.session_state.get(f"{P}_importance")
    if importance is not None:
        fig = go.Figure(
            go.Bar(
                x=importance["importance"],
                y=importance["feature"],
                orientation="h",
                error_x=dict(array=importance["std"]),
            )
        )
        fig.update_layout(
            height=340,
            margin=dict(l=10, r=10, t=30, b=10),
            yaxis=dict(autorange="reversed"),
            xaxis_title=t("responsible.auc_drop"),
            separators=", " if lang == "fr" else ".,",
        )
        plotly_chart(fig)
        st.caption(t("responsible.importance_note"))
    st.divider()
    st.subheader(t("responsible.decision_title"))
    st.markdown(t("responsible.decision_intro"))
    refused = rai.refused_applicants(subject)
    if refused.empty:
        st.info(t("responsible.no_refused"), icon=":material/info:")
        return
    choice = st.selectbox(
        t("responsible.applicant"),
        list(refused.index),
        format_func={
            i: t("responsible.applicant_label", row=i, p=fmt.percent(p, lang))
            for i, p in refused["probability"].items()
        }.__getitem__,
        key=f"{P}_applicant",
    )
    application = refused.loc[choice].drop("probability").to_dict()
    explanation = rai.explain_decision(subject, application)
    cols = st.columns(2)
    cols[0].metric(t("responsible.probability"), fmt.percent(explanation.probability, lang))
    cols[1].metric(t("responsible.typical"), fmt.percent(explanation.reference_probability, lang))
    table = explanation.contributions.copy()
    table["contribution"] = table["contribution"].map(lambda v: fmt.points(v, lang))
    table["value"] = table["value"].map(_value)
    table["reference"] = table["reference"].map(_value)
    table = table.rename(columns={c: t(f"responsible.col_{c}") for c in table.columns})
    dataframe(table.astype(str))
    letter = [
        t(
            "responsible.reason_line",
            feature=r.feature,
            value=_value(r.value),
            reference=_value(r.reference),
            points=fmt.points(-r.contribution, lang, sign=False),
        )
        for r in rai.reasons(explanation).itertuples()
    ]
    st.markdown(t("responsible.letter_title"))
    st.info("\n".join(f"- {line}" for line in letter) if letter else t("responsible.no_reason"), icon=":material/mail:")
    st.caption(t("responsible.decision_note"))


def _value(value: object) -> str:
    if value is None:
        return t("responsible.missing_value")
    if isinstance(value, int | float):
        return fmt.number_auto(value, current_lang())
    return str(value)


# ----------------------------------------------------------------------------------------------
# Model card and signing
# ----------------------------------------------------------------------------------------------


def _card(subject) -> None:
    from workbench.chapters.ch11_post_production import responsible as rai

    lang = current_lang()
    st.markdown(t("responsible.card_intro"))
    reports = []
    for attribute in rai.ATTRIBUTES:
        try:
            reports.append(rai.review_fairness(subject, attribute))
        except rai.ResponsibleError as exc:
            st.caption(error_text(exc))
    card = rai.model_card(subject, lang, reports, st.session_state.get(f"{P}_importance"))
    st.download_button(
        t("responsible.card_download"),
        card.encode("utf-8"),
        file_name=f"model_card_{lang}.md",
        mime="text/markdown",
        key=f"{P}_card_download",
        icon=":material/download:",
    )
    with st.expander(t("responsible.card_preview"), expanded=True):
        st.markdown(card)


def _signing(subject) -> None:
    from workbench.chapters.ch11_post_production import responsible as rai

    st.markdown(t("responsible.sign_intro"))
    if st.button(t("responsible.sign"), key=f"{P}_sign"):
        with st.spinner(t("responsible.signing")):
            try:
                st.session_state[f"{P}_signing"] = rai.sign_model(subject, get_settings(), current_learner())
                forget_check_results(CHAPTER)
            except rai.ResponsibleError as exc:
                _error(exc)
    result = st.session_state.get(f"{P}_signing")
    if result is not None:
        if result.verified.ok:
            st.success(t("responsible.sign_ok", n=len(result.files)), icon=":material/verified:")
        else:
            st.error(t("responsible.sign_failed", reason=result.verified.reason), icon=":material/error:")
        if result.tampered.ok:
            st.error(t("responsible.tamper_passed"), icon=":material/error:")
        else:
            st.warning(
                t("responsible.tamper_caught", file=result.tampered_file, reason=result.tampered.reason[:160]),
                icon=":material/gpp_bad:",
            )
        with st.expander(t("responsible.sign_files")):
            st.code("\n".join(result.files), language="text")
    show_code(_SIGN_CODE, title=t("responsible.sign_code"))


_SIGN_CODE = """\
import model_signing  # pip install model-signing  (OpenSSF)

# sign every file of the exported MLflow model folder with a local key (no network)
model_signing.signing.Config().use_elliptic_key_signer(private_key="signing_key.pem").sign("model", "model.sig")

# anyone with the public key checks the folder is exactly what was signed (raises ValueError otherwise)
model_signing.verifying.Config().use_elliptic_key_verifier(public_key="signing_key.pub").verify("model", "model.sig")

# the same from a shell:
#   model_signing sign key model --private_key signing_key.pem --signature model.sig
#   model_signing verify key model --public_key signing_key.pub --signature model.sig
"""
