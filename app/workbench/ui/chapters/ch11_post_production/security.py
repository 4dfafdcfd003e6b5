"""Chapter XI lab, Security tab: evasion (white box, black box, over HTTP), poisoning, extraction,
membership inference, inversion and denial of service, defenses — each attack on a button, with a
time budget, a progress bar and "show me the code"."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.model_widgets import course_data
from workbench.ui.widgets import dataframe, decimal_slider, number_field, show_code

P = "ch11"


@st.cache_resource(show_spinner=False, max_entries=8)
def _victim(model_name: str, params_key: tuple, path: str, mtime: float):
    from workbench.chapters.ch11_post_production.security import train_victim
    from workbench.core.data import load_course_data

    return train_victim(load_course_data(path), model_name, dict(params_key))


def victim(model_name: str, params: dict | None = None):
    """The attacked model trained on the course data (cached per model and data file)."""
    path = get_settings().data_path
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _victim(model_name, tuple(sorted((params or {}).items())), str(path), mtime)


def _progress(text: str):
    """A progress bar and its callback; the label says "done" once the work reaches 100 %."""
    bar = st.progress(0.0, text=text)
    return lambda fraction: bar.progress(fraction, text=text if fraction < 1 else t("common.done"))


def _budget() -> float:
    return float(st.session_state.get(f"{P}_budget", 30))


def _error(exc: Exception) -> None:
    st.error(t("security.error", error=error_text(exc)), icon=":material/error:")


def _data_path() -> str:
    """The course data file as the learner would name it (relative to the repository when inside it)."""
    settings = get_settings()
    path = settings.data_path
    return str(path.relative_to(settings.repo_root)) if path.is_relative_to(settings.repo_root) else str(path)


def _pct(value: float) -> str:
    return fmt.percent(value, current_lang())


def _pts(change: float) -> str:
    """A change of a share, in percentage points (`-12,3 pts`)."""
    return fmt.points(change, current_lang())


def security_tab() -> None:
    """The Security tab: one sub-tab per family of attacks, then the defenses."""
    st.markdown(t("security.intro"))
    st.slider(t("security.budget"), 5, 120, 30, 5, key=f"{P}_budget", help=t("security.budget_help"))
    tabs = st.tabs(
        [
            t("security.sub_evasion"),
            t("security.sub_poisoning"),
            t("security.sub_extraction"),
            t("security.sub_membership"),
            t("security.sub_inversion_dos"),
            t("security.sub_defenses"),
        ]
    )
    renders = (
        evasion_section,
        poisoning_section,
        extraction_section,
        membership_section,
        inversion_dos_section,
        defenses_section,
    )
    for tab, render in zip(tabs, renders):
        with tab:
            try:
                course_data()
            except (OSError, ValueError) as exc:
                _error(exc)
                return
            render()


# ----------------------------------------------------------------------------------------------
# Evasion
# ----------------------------------------------------------------------------------------------


def _evasion_summary(result, key: str) -> None:
    from workbench.chapters.ch11_post_production.security import comparison_table

    lang = current_lang()
    cols = st.columns(4)
    cols[0].metric(t("security.acc_clean"), _pct(result.accuracy_clean))
    # an accuracy that drops under attack is bad news: red (normal colours: negative = red)
    cols[1].metric(
        t("security.acc_model_space"),
        _pct(result.accuracy_model_space),
        _pts(result.accuracy_model_space - result.accuracy_clean),
        delta_color="normal",
    )
    cols[2].metric(
        t("security.acc_valid"),
        _pct(result.accuracy_valid),
        _pts(result.accuracy_valid - result.accuracy_clean),
        delta_color="normal",
    )
    cols[3].metric(t("security.rejected"), _pct(result.rejected_share))
    st.caption(
        t(
            "security.evasion_caption",
            rows=result.n_rows,
            flipped=int(result.flipped.sum()),
            seconds=result.seconds,
            queries=result.queries,
        )
    )
    if not result.complete:
        st.warning(t("security.budget_ran_out"), icon=":material/timer_off:")
    example = result.example()
    if example is None:
        st.info(t("security.no_flip"), icon=":material/shield:")
        return
    before, after = example
    i = int(result.flipped.nonzero()[0][0])
    st.markdown(t("security.flip_example", before=result.proba_before[i], after=result.proba_after[i]))
    dataframe(comparison_table(before, after, lang), key=key)


def evasion_section() -> None:
    """White box (FGSM/PGD on the logistic regression), black box (HopSkipJump/Boundary on the random
    forest), black box over HTTP (greedy search against the live API), and the learner's own try."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.data import FEATURES, NUMERIC_FEATURES

    lang = current_lang()
    data_path = _data_path()
    st.markdown(t("security.evasion_intro"))

    st.subheader(t("security.white_box_title"))
    st.markdown(t("security.white_box_intro"))
    left, middle, right = st.columns(3)
    eps = decimal_slider(
        t("security.eps"), 0.1, 3.0, 2.0, 0.1, key=f"{P}_wb_eps", help=t("security.eps_help"), container=left
    )
    method = middle.radio(
        t("security.method"),
        ["fgsm", "pgd"],
        horizontal=True,
        key=f"{P}_wb_method",
        format_func=lambda m: translate(f"security.attack_{m}", lang),
    )
    features = right.multiselect(
        t("security.features"),
        list(FEATURES),
        list(NUMERIC_FEATURES),
        key=f"{P}_wb_features",
        placeholder=t("common.choose_several"),
    )
    if st.button(t("security.run_attack"), key=f"{P}_wb_run", type="primary", icon=":material/bolt:"):
        if not features:
            st.warning(t("security.pick_features"))
        else:
            try:
                st.session_state[f"{P}_wb_result"] = security.white_box_evasion(
                    victim("logistic_regression"),
                    eps,
                    method,
                    features,
                    budget_seconds=_budget(),
                    progress=_progress(t("security.attacking")),
                )
            except security.SecurityError as exc:
                _error(exc)
    if (result := st.session_state.get(f"{P}_wb_result")) is not None:
        _evasion_summary(result, f"{P}_wb_table")
    show_code(security.evasion_code(method, eps, data_path))

    st.subheader(t("security.black_box_title"))
    st.markdown(t("security.black_box_intro"))
    left, right = st.columns(2)
    attack = left.radio(
        t("security.method"),
        ["hopskipjump", "boundary"],
        horizontal=True,
        key=f"{P}_bb_attack",
        format_func=lambda m: translate(f"security.attack_{m}", lang),
    )
    rows = right.slider(t("security.rows"), 2, 50, 10, key=f"{P}_bb_rows")
    if st.button(t("security.run_attack"), key=f"{P}_bb_run", type="primary", icon=":material/bolt:"):
        try:
            st.session_state[f"{P}_bb_result"] = security.black_box_evasion(
                victim("random_forest", {"n_estimators": 50}),
                attack,
                NUMERIC_FEATURES,
                rows,
                budget_seconds=_budget(),
                progress=_progress(t("security.attacking")),
            )
        except security.SecurityError as exc:
            _error(exc)
    if (result := st.session_state.get(f"{P}_bb_result")) is not None:
        _evasion_summary(result, f"{P}_bb_table")
    show_code(security.evasion_code(attack, data_path=data_path, max_rows=rows))

    st.subheader(t("security.api_attack_title"))
    st.markdown(t("security.api_attack_intro"))
    _api_attack()
    st.subheader(t("security.flip_title"))
    _flip_exercise()


def _api_status() -> bool:
    """Show whether the API answers; offer to start it. True when it answers."""
    from workbench.core import api_client

    settings = get_settings()
    status = api_client.status(settings)
    if status.healthy:
        limit = st.session_state.get(f"{P}_api_limit")
        text = (
            t("security.api_up_limited", url=api_client.api_url(settings), rate=limit[0], burst=limit[1])
            if limit
            else t("security.api_up", url=api_client.api_url(settings))
        )
        st.success(text, icon=":material/check_circle:")
        return True
    st.info(t("security.api_down"), icon=":material/power_off:")
    return False


def _start_api_button(key: str) -> None:
    from workbench.core import api_client

    if st.button(t("security.api_start"), key=key, icon=":material/play_arrow:"):
        with st.spinner(t("security.api_starting")):
            try:
                api_client.start(get_settings())
                st.session_state.pop(f"{P}_api_limit", None)
            except RuntimeError as exc:
                _error(exc)
                return
        st.rerun()


def _api_attack() -> None:
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client
    from workbench.core.data import FEATURES

    start = security.flip_start_application(victim("logistic_regression"))
    if not _api_status():
        _start_api_button(f"{P}_api_start_evasion")
    left, right = st.columns(2)
    features = left.multiselect(
        t("security.features"),
        list(FEATURES),
        list(security.DEFAULT_API_FEATURES),
        key=f"{P}_api_features",
        placeholder=t("common.choose_several"),
    )
    max_queries = right.slider(t("security.max_queries"), 20, 500, 200, 10, key=f"{P}_api_max_queries")
    st.caption(t("security.api_start_row"))
    st.json(start, expanded=False)
    if st.button(t("security.run_attack"), key=f"{P}_api_run", type="primary", icon=":material/bolt:"):
        if not api_client.status(get_settings()).healthy:
            st.warning(t("security.api_needed"))
        elif not features:
            st.warning(t("security.pick_features"))
        else:
            try:
                st.session_state[f"{P}_api_result"] = security.greedy_api_attack(
                    start,
                    security.api_query(get_settings()),
                    features,
                    max_queries,
                    _budget(),
                    progress=_progress(t("security.attacking")),
                )
            except security.SecurityError as exc:
                _error(exc)
    if (result := st.session_state.get(f"{P}_api_result")) is not None:
        cols = st.columns(4)
        cols[0].metric(t("security.goal"), t(f"security.goal_{result.goal}"))
        cols[1].metric(t("security.reached"), t("security.yes") if result.reached else t("security.no"))
        cols[2].metric(t("security.queries"), result.queries)
        cols[3].metric(t("security.refused_queries"), result.refused)
        st.markdown(
            t(
                "security.api_probabilities",
                before=result.probability_before,
                after=result.probability_after,
                seconds=result.seconds,
            )
        )
        if result.steps:
            steps = pd.DataFrame(result.steps).assign(
                old=lambda d: d["old"].map(lambda v: security._shown(v, current_lang())),
                new=lambda d: d["new"].map(lambda v: security._shown(v, current_lang())),
            )
            dataframe(
                steps.rename(
                    columns={
                        "feature": t("security.col_feature"),
                        "old": t("security.col_old"),
                        "new": t("security.col_new"),
                        "probability": t("security.col_probability"),
                        "queries": t("security.col_queries"),
                    }
                ),
                formats={t("security.col_probability"): "percent"},
                key=f"{P}_api_steps",
            )
        dataframe(security.comparison_table(result.original, result.final, current_lang()), key=f"{P}_api_table")
    show_code(security.api_attack_code(api_client.api_url(get_settings()), start, features or ["CoapplicantIncome"]))


def _flip_exercise() -> None:
    """The hands-on: edit the refused application as little as possible until the model approves it."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.data import CATEGORIES

    model = victim("logistic_regression")
    start = security.flip_start_application(model)
    st.markdown(t("security.flip_intro"))
    edited: dict = {}
    columns = st.columns(3)
    for i, (feature, choices) in enumerate(CATEGORIES.items()):
        edited[feature] = columns[i % 3].selectbox(
            feature, list(choices), index=list(choices).index(start[feature]), key=f"{P}_flip_{feature}"
        )
    for i, feature in enumerate(("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")):
        edited[feature] = number_field(
            feature,
            key=f"{P}_flip_{feature}",
            value=int(start[feature]),
            min_value=0,
            max_value=1_000_000,
            integer=True,
            container=columns[i % 3],
        )
    if any(edited[f] is None for f in ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")):
        return
    edited["Credit_History"] = columns[1].selectbox(
        "Credit_History", [0, 1], index=int(start["Credit_History"]), key=f"{P}_flip_Credit_History"
    )
    edited = {k: edited[k] for k in start}
    if st.button(t("security.flip_submit"), key=f"{P}_flip_submit", type="primary", icon=":material/edit:"):
        verdict = security.judge_flip(model, start, edited)
        if not verdict.problems:
            security.save_flip_attempt(get_settings(), current_learner(), start, edited)
        st.session_state[f"{P}_flip_verdict"] = verdict
    verdict = st.session_state.get(f"{P}_flip_verdict")
    if verdict is None:
        return
    if verdict.problems:
        st.error(t("security.flip_invalid", problems=verdict.problems))
    elif verdict.flipped:
        st.success(
            t(
                "security.flip_ok",
                before=verdict.probability_before,
                after=verdict.probability_after,
                cost=verdict.cost,
                score=verdict.score,
            )
        )
    else:
        st.warning(
            t(
                "security.flip_not",
                before=verdict.probability_before,
                after=verdict.probability_after,
                cost=verdict.cost,
            )
        )


# ----------------------------------------------------------------------------------------------
# Poisoning
# ----------------------------------------------------------------------------------------------


def poisoning_section() -> None:
    """Label flipping (random vs targeted) → accuracy vs poison rate; ART's backdoor."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.modeling import MODEL_NAMES

    lang = current_lang()
    st.markdown(t("security.poison_intro"))
    left, right = st.columns(2)
    model_name = left.selectbox(
        t("security.model"),
        list(MODEL_NAMES),
        key=f"{P}_poison_model",
        format_func=lambda m: translate(f"model.name_{m}", lang),
    )
    strategies = right.multiselect(
        t("security.strategies"),
        ["random", "targeted"],
        ["random", "targeted"],
        key=f"{P}_poison_strategies",
        placeholder=t("common.choose_several"),
        format_func=lambda s: translate(f"security.strategy_{s}", lang),
    )
    if st.button(t("security.run_attack"), key=f"{P}_poison_run", type="primary", icon=":material/bolt:"):
        curves = {}
        target = victim(model_name)
        names = ", ".join(translate(f"security.strategy_{s}", lang) for s in strategies)
        overall = _progress(t("security.poisoning", strategy=names))  # one bar for every strategy: one "done"
        for number, strategy in enumerate(strategies):
            curves[strategy] = security.poisoning_curve(
                target,
                strategy=strategy,
                budget_seconds=_budget() / max(1, len(strategies)),
                progress=lambda f, n=number: overall((n + f) / len(strategies)),
            )
        st.session_state[f"{P}_poison_curves"] = curves
    if curves := st.session_state.get(f"{P}_poison_curves"):
        st.plotly_chart(security.poisoning_figure(curves, lang), key=f"{P}_poison_chart")
        table = pd.concat([c.assign(strategy=translate(f"security.strategy_{s}", lang)) for s, c in curves.items()])
        table = table.rename(columns=lambda c: t(f"security.col_{c}"))
        dataframe(
            table,
            key=f"{P}_poison_table",
            formats={t("security.col_rate"): "percent:0", t("security.col_accuracy"): "number:3"},
        )

    st.markdown(t("security.backdoor_intro", trigger=security.BACKDOOR_TRIGGER))
    rate = decimal_slider(t("security.poison_rate"), 0.01, 0.2, 0.05, 0.01, key=f"{P}_backdoor_rate")
    if st.button(t("security.run_backdoor"), key=f"{P}_backdoor_run", icon=":material/pest_control:"):
        try:
            st.session_state[f"{P}_backdoor"] = security.backdoor_attack(
                victim("random_forest", {"n_estimators": 50}), rate
            )
        except security.SecurityError as exc:
            _error(exc)
    if (result := st.session_state.get(f"{P}_backdoor")) is not None:
        cols = st.columns(4)
        cols[0].metric(t("security.clean_before"), _pct(result.clean_accuracy_before))
        cols[1].metric(
            t("security.clean_after"),
            _pct(result.clean_accuracy_after),
            _pts(result.clean_accuracy_after - result.clean_accuracy_before),
        )
        cols[2].metric(t("security.trigger_before"), _pct(result.trigger_success_before))
        cols[3].metric(
            t("security.trigger_after"),
            _pct(result.trigger_success_after),
            _pts(result.trigger_success_after - result.trigger_success_before),
            delta_color="inverse",
        )  # the backdoor working better is bad news
        st.caption(t("security.backdoor_caption", n=result.n_poison))
    show_code(security.poisoning_code(model_name, _data_path()))


# ----------------------------------------------------------------------------------------------
# Extraction
# ----------------------------------------------------------------------------------------------


def extraction_section() -> None:
    """Copy the live API's model from its answers, then watch a rate limit stall the attack."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    lang = current_lang()
    settings = get_settings()
    st.markdown(t("security.extraction_intro"))
    up = _api_status()
    if not up:
        _start_api_button(f"{P}_api_start_extraction")
    left, right = st.columns(2)
    n_queries = left.select_slider(t("security.n_queries"), [50, 100, 200, 400, 800], 400, key=f"{P}_extract_n")
    surrogate = right.radio(
        t("security.surrogate"),
        ["decision_tree", "logistic_regression"],
        horizontal=True,
        key=f"{P}_extract_surrogate",
        format_func=lambda m: translate(f"model.name_{m}", lang),
    )
    limited = st.session_state.get(f"{P}_api_limit") is not None
    if st.button(t("security.run_extraction"), key=f"{P}_extract_run", type="primary", icon=":material/content_copy:"):
        if not api_client.status(settings).healthy:
            st.warning(t("security.api_needed"))
        else:
            _run_extraction(n_queries, surrogate, "limited" if limited else "unlimited")
    st.markdown(t("security.rate_limit_intro"))
    left, middle, right = st.columns(3)
    rate = number_field(
        t("security.rate"), key=f"{P}_rate", value=2.0, min_value=0.5, max_value=100.0, digits=1, container=left
    )
    burst = number_field(
        t("security.burst"), key=f"{P}_burst", value=5, min_value=1, max_value=100, integer=True, container=middle
    )
    right.write("")
    if right.button(
        t("security.restart_limited"),
        key=f"{P}_restart_limited",
        icon=":material/speed:",
        disabled=rate is None or burst is None,
    ):
        _restart(rate, burst)
    if st.button(t("security.restart_unlimited"), key=f"{P}_restart_unlimited", icon=":material/restart_alt:"):
        _restart(0.0, 20)
    results = st.session_state.get(f"{P}_extractions", {})
    if results:
        cols = st.columns(len(results))
        for col, (name, result) in zip(cols, results.items()):
            col.metric(t(f"security.run_{name}"), _pct(result.fidelity), help=t("security.extraction_help"))
            col.caption(
                t(
                    "security.extraction_caption",
                    obtained=result.obtained,
                    refused=result.refused,
                    seconds=result.seconds,
                    agreement=_pct(result.agreement),
                )
            )
        left, right = st.columns(2)
        left.plotly_chart(security.extraction_figure(results, lang), key=f"{P}_fidelity_chart")
        right.plotly_chart(security.timeline_figure(results, lang), key=f"{P}_timeline_chart")
    show_code(security.extraction_code(api_client.api_url(settings), n_queries, surrogate))


def _restart(rate: float, burst: int) -> None:
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    settings = get_settings()
    status = api_client.status(settings)
    if status.healthy and status.pid is None:
        st.warning(t("security.api_external"))
        return
    with st.spinner(t("security.api_starting")):
        try:
            if rate > 0 and status.healthy:
                _holdout_probabilities()  # measured now: under the limit a 200-row batch costs 200 requests
            security.restart_api(settings, rate, burst)
        except (RuntimeError, security.SecurityError) as exc:
            _error(exc)
            return
    st.session_state[f"{P}_api_limit"] = (rate, burst) if rate > 0 else None
    st.rerun()


def _holdout_probabilities() -> tuple[list[dict], list[float]]:
    """The 200 held-out applications and the API's probabilities for them, measured once per served model.

    Raises:
        SecurityError: the API refused the measuring batch (e.g. it already runs with a rate limit).
    """
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    settings = get_settings()
    holdout = security.synthetic_applications(200, seed=8)
    info = api_client.call("GET", "/model", settings=settings)
    version = info.body.get("version") if info.ok and isinstance(info.body, dict) else None
    cached = st.session_state.get(f"{P}_holdout")
    if cached is not None and cached[0] == version:
        return holdout, cached[1]
    probabilities = security.batch_probabilities(holdout, settings)
    st.session_state[f"{P}_holdout"] = (version, probabilities)
    return holdout, probabilities


def _run_extraction(n_queries: int, surrogate: str, name: str) -> None:
    from workbench.chapters.ch11_post_production import security

    settings = get_settings()
    try:
        holdout, probabilities = _holdout_probabilities()
        result = security.extraction_attack(
            security.api_query(settings),
            security.synthetic_applications(n_queries),
            holdout,
            probabilities,
            surrogate,
            budget_seconds=_budget(),
            progress=_progress(t("security.extracting")),
        )
    except security.SecurityError as exc:
        _error(exc)
        return
    st.session_state.setdefault(f"{P}_extractions", {})[name] = result


# ----------------------------------------------------------------------------------------------
# Membership inference
# ----------------------------------------------------------------------------------------------


def membership_section() -> None:
    """ART's black-box membership inference on a regularised and an overfit random forest."""
    from workbench.chapters.ch11_post_production import security

    lang = current_lang()
    st.markdown(t("security.mia_intro"))
    if st.button(t("security.run_attack"), key=f"{P}_mia_run", type="primary", icon=":material/bolt:"):
        st.session_state[f"{P}_mia"] = security.membership_inference(
            course_data(), budget_seconds=_budget(), progress=_progress(t("security.attacking"))
        )
    if results := st.session_state.get(f"{P}_mia"):
        table = pd.DataFrame(
            [
                {
                    t("security.col_model"): translate(f"security.mia_{r.name}", lang),
                    t("security.col_train_acc"): round(r.train_accuracy, 3),
                    t("security.col_test_acc"): round(r.test_accuracy, 3),
                    t("security.col_auc_art"): round(r.auc_art, 3),
                    t("security.col_auc_conf"): round(r.auc_confidence, 3),
                }
                for r in results
            ]
        )
        dataframe(table, key=f"{P}_mia_table")
        st.plotly_chart(security.membership_figure(results, lang), key=f"{P}_mia_chart")
    show_code(security.membership_code(_data_path()))


# ----------------------------------------------------------------------------------------------
# Inversion and denial of service
# ----------------------------------------------------------------------------------------------


def inversion_dos_section() -> None:
    """Model inversion explained; denial of service shown through the API's body cap and rate limiter."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core import api_client

    settings = get_settings()
    st.markdown(t("security.inversion_text"))
    st.markdown(t("security.dos_text", max_body=settings.api_max_body_bytes))
    if not _api_status():
        _start_api_button(f"{P}_api_start_dos")
    left, right = st.columns(2)
    if left.button(t("security.send_oversize"), key=f"{P}_oversize", icon=":material/upload_file:"):
        if api_client.status(settings).healthy:
            st.session_state[f"{P}_oversize_result"] = security.oversize_probe(settings)
        else:
            st.warning(t("security.api_needed"))
    n = right.slider(t("security.burst_size"), 10, 300, 60, 10, key=f"{P}_burst_n")
    if right.button(t("security.send_burst"), key=f"{P}_burst_run", icon=":material/flood:"):
        if api_client.status(settings).healthy:
            st.session_state[f"{P}_burst_result"] = security.burst_probe(settings, n, _progress(t("security.sending")))
        else:
            st.warning(t("security.api_needed"))
    for key in (f"{P}_oversize_result", f"{P}_burst_result"):
        if (probe := st.session_state.get(key)) is not None:
            codes = ", ".join(f"**{code}** × {count}" for code, count in probe.statuses.items())
            st.markdown(
                t(
                    f"security.probe_{probe.kind}",
                    codes=codes,
                    bytes=probe.bytes_sent,
                    seconds=probe.seconds,
                    sent=probe.sent,
                )
            )
    show_code(security.dos_code(api_client.api_url(settings), settings.api_max_body_bytes, n))


# ----------------------------------------------------------------------------------------------
# Defenses
# ----------------------------------------------------------------------------------------------


def defenses_section() -> None:
    """Adversarial training, input validation, ensembles and rate limiting, with before/after numbers."""
    from workbench.chapters.ch11_post_production import security
    from workbench.core.data import NUMERIC_FEATURES

    lang = current_lang()
    st.markdown(t("security.defenses_intro"))
    eps = decimal_slider(t("security.eps"), 0.1, 3.0, 1.0, 0.1, key=f"{P}_def_eps")
    if st.button(t("security.run_defenses"), key=f"{P}_def_run", type="primary", icon=":material/shield:"):
        progress = _progress(t("security.defending"))
        target = victim("logistic_regression")
        results = [security.adversarial_training(target, eps)]
        progress(0.4)
        attack = security.white_box_evasion(target, eps, "fgsm", NUMERIC_FEATURES, budget_seconds=_budget())
        results.append(security.validation_defense(attack))
        progress(0.6)
        results.append(security.ensemble_defense(target, eps))
        extractions = st.session_state.get(f"{P}_extractions", {})
        if {"unlimited", "limited"} <= set(extractions):
            results.append(security.rate_limit_defense(extractions["unlimited"], extractions["limited"]))
        if trials := st.session_state.get(f"{P}_loading"):
            results.append(security.safe_loading_defense(trials))
        progress(1.0)
        st.session_state[f"{P}_defenses"] = results
    if results := st.session_state.get(f"{P}_defenses"):
        cols = st.columns(len(results))
        for col, r in zip(cols, results):
            col.metric(
                t(f"security.defense_{r.defense}"),
                fmt.format_value(r.after, ".3g", lang),
                fmt.format_value(r.after - r.before, "+.3g", lang),
            )
        dataframe(security.defenses_table(results, lang), key=f"{P}_def_table")
        for r in results:
            if "clean_before" in r.detail:
                st.caption(
                    t(
                        "security.clean_cost",
                        defense=translate(f"security.defense_{r.defense}", lang),
                        before=r.detail["clean_before"],
                        after=r.detail["clean_after"],
                    )
                )
        if not any(r.defense == "rate_limiting" for r in results):
            st.caption(t("security.rate_limit_missing"))
    show_code(security.defenses_code(eps, _data_path()))
    _model_loading()


def _model_loading() -> None:
    """A booby-trapped model: MLflow's default loader runs its payload, the workbench's loader refuses it."""
    import tempfile
    from pathlib import Path

    from workbench.chapters.ch11_post_production import security

    st.subheader(t("security.loading_title"))
    st.markdown(t("security.loading_intro"))
    if st.button(t("security.loading_run"), key=f"{P}_loading_run", icon=":material/gpp_bad:"):
        with st.spinner(t("security.loading_running")), tempfile.TemporaryDirectory(prefix="ch11-models-") as tmp:
            try:
                st.session_state[f"{P}_loading"] = security.model_loading_trials(
                    Path(tmp), victim("logistic_regression").pipeline, get_settings()
                )
            except security.SecurityError as exc:
                _error(exc)
    if trials := st.session_state.get(f"{P}_loading"):
        st.table(security.loading_table(trials, current_lang()).set_index(t("security.col_file")))
    show_code(security.safe_loading_code())
