"""Chapter IX lab tabs: manifest generator, broken-manifest editor, autoscaling simulator, GKE and Cloud Build."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.i18n import pick
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, t
from workbench.ui.widgets import dataframe, monospace_editor, number_field, show_code

P = get_chapter("ch09_kubernetes").prefix  # widget key prefix, from the chapter


def _report(report) -> None:
    """A validation report: success, or every problem (errors first) with its full explanation."""
    lang = current_lang()
    if not report.problems:
        st.success(
            t("k8s.valid", n=len(report.documents), version=report.version, resources=", ".join(report.kinds())),
            icon=":material/verified:",
        )
        return
    errors, warnings = len(report.errors), len(report.problems) - len(report.errors)
    if errors:
        st.error(t("k8s.invalid", errors=errors, warnings=warnings, version=report.version), icon=":material/error:")
    else:
        st.warning(t("k8s.valid_with_warnings", warnings=warnings, version=report.version), icon=":material/warning:")
    ordered = sorted(report.problems, key=lambda p: p.severity != "error")
    st.markdown(
        "\n".join(
            f"- {':red[:material/error:]' if p.severity == 'error' else ':orange[:material/warning:]'} **{p.resource}** — "
            f"{p.message(lang)}"
            for p in ordered
        )
    )


# ----------------------------------------------------------------------------------------------
# Generator
# ----------------------------------------------------------------------------------------------


def _labels_input(label: str, default: str, key: str) -> dict | None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    text = st.text_input(label, default, key=key)
    try:
        return k8s.parse_labels(text)
    except k8s.K8sError as exc:
        st.error(exc.message(current_lang()))
        return None


def generator_tab() -> None:
    """Inputs → Deployment, Service, HPA and ConfigMap as YAML, validated, with the label check explained."""
    from workbench.chapters.ch09_kubernetes import lab as k8s

    lang = current_lang()
    st.markdown(t("k8s.generator_intro"))
    cols = st.columns(3)
    name = cols[0].text_input(t("k8s.name"), "loan-api", key=f"{P}_name")
    image = cols[1].text_input(t("k8s.image"), k8s.ApiSpec().image, key=f"{P}_image")
    service_type = cols[2].selectbox(t("k8s.service_type"), k8s.SERVICE_TYPES, index=2, key=f"{P}_service_type")
    cols = st.columns(4)
    replicas = number_field(
        t("k8s.replicas"), key=f"{P}_replicas", value=2, min_value=1, max_value=50, integer=True, container=cols[0]
    )
    container_port = number_field(
        t("k8s.container_port"),
        key=f"{P}_container_port",
        value=8000,
        min_value=1,
        max_value=65535,
        integer=True,
        container=cols[1],
    )
    service_port = number_field(
        t("k8s.service_port"),
        key=f"{P}_service_port",
        value=80,
        min_value=1,
        max_value=65535,
        integer=True,
        container=cols[2],
    )
    target_cpu = cols[3].slider(t("k8s.target_cpu"), 10, 100, 70, 5, key=f"{P}_target_cpu")
    cols = st.columns(6)
    cpu_request = cols[0].text_input(t("k8s.cpu_request"), "250m", key=f"{P}_cpu_request")
    cpu_limit = cols[1].text_input(t("k8s.cpu_limit"), "500m", key=f"{P}_cpu_limit")
    memory_request = cols[2].text_input(t("k8s.memory_request"), "256Mi", key=f"{P}_memory_request")
    memory_limit = cols[3].text_input(t("k8s.memory_limit"), "512Mi", key=f"{P}_memory_limit")
    min_replicas = number_field(
        t("k8s.min_replicas"),
        key=f"{P}_min_replicas",
        value=2,
        min_value=1,
        max_value=100,
        integer=True,
        container=cols[4],
    )
    max_replicas = number_field(
        t("k8s.max_replicas"),
        key=f"{P}_max_replicas",
        value=10,
        min_value=1,
        max_value=200,
        integer=True,
        container=cols[5],
    )
    left, right = st.columns(2)
    with left:
        labels = _labels_input(t("k8s.pod_labels"), "app=loan-api, tier=api", f"{P}_labels")
    with right:
        selector = _labels_input(t("k8s.selector"), "app=loan-api, tier=api", f"{P}_selector")
    st.caption(t("k8s.selector_help"))
    config_text = st.text_area(
        t("k8s.config"),
        "MLFLOW_TRACKING_URI=http://mlflow:5000\nWORKBENCH_API_ALIAS=production",
        height=80,
        key=f"{P}_config",
    )
    if (
        labels is None
        or selector is None
        or None in (replicas, container_port, service_port, min_replicas, max_replicas)
    ):
        return
    try:
        config = {k: v for k, v in (line.split("=", 1) for line in config_text.splitlines() if "=" in line)}
        spec = k8s.ApiSpec(
            name=name.strip(),
            image=image.strip(),
            replicas=int(replicas),
            container_port=int(container_port),
            service_port=int(service_port),
            service_type=service_type,
            cpu_request=cpu_request.strip(),
            cpu_limit=cpu_limit.strip(),
            memory_request=memory_request.strip(),
            memory_limit=memory_limit.strip(),
            labels=labels,
            selector=selector,
            min_replicas=int(min_replicas),
            max_replicas=int(max_replicas),
            target_cpu=int(target_cpu),
            config={k.strip(): v.strip() for k, v in config.items()},
        )
        documents = k8s.generate_manifests(spec)
    except k8s.K8sError as exc:
        st.error(exc.message(lang))
        return
    text = k8s.to_yaml(documents)
    report = k8s.validate_text(text)
    _report(report)
    st.subheader(t("k8s.label_check_title"))
    _label_check(selector, labels)
    left, right = st.columns([3, 1])
    with left:
        with st.expander(t("k8s.yaml_title", n=len(documents)), expanded=True, icon=":material/description:"):
            st.code(text, language="yaml")
    right.download_button(
        t("k8s.download"),
        text,
        file_name=f"{spec.name}.yaml",
        mime="application/yaml",
        key=f"{P}_download",
        icon=":material/download:",
    )
    show_code(k8s.apply_code(f"{spec.name}.yaml"), language="bash")
    show_code(k8s.validation_code(f"{spec.name}.yaml"), title=t("k8s.validation_code"))


def _label_check(selector: dict, labels: dict) -> None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    keys = list(dict.fromkeys([*selector, *labels]))
    mismatched = {k for k, _, _ in k8s.label_mismatches(selector, labels)}
    table = pd.DataFrame(
        {
            t("k8s.col_label"): keys,
            t("k8s.col_selector"): [selector.get(k, "") for k in keys],
            t("k8s.col_pod_label"): [labels.get(k, "") for k in keys],
            t("k8s.col_match"): [
                "✗" if k in mismatched else ("✓" if k in selector else t("k8s.not_selected")) for k in keys
            ],
        }
    )
    dataframe(table, key=f"{P}_label_table")
    st.caption(t("k8s.label_rule"))


# ----------------------------------------------------------------------------------------------
# Broken manifest
# ----------------------------------------------------------------------------------------------


def _restart_broken() -> None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    st.session_state[f"{P}_broken_text"] = k8s.BROKEN_MANIFEST
    st.session_state.pop(f"{P}_broken_report", None)


def broken_tab() -> None:
    """Edit a broken manifest until it validates; each validation saves it for the exercise check."""
    from workbench.chapters.ch09_kubernetes import lab as k8s

    lang = current_lang()
    settings, learner = get_settings(), current_learner()
    st.markdown(t("k8s.broken_intro"))
    key = f"{P}_broken_text"
    if key not in st.session_state:
        st.session_state[key] = k8s.load_manifest(settings, learner) or k8s.BROKEN_MANIFEST
    monospace_editor(key)
    text = st.text_area(t("k8s.broken_editor"), key=key, height=520)
    left, right = st.columns(2)
    if left.button(t("k8s.broken_validate"), key=f"{P}_broken_validate", type="primary", icon=":material/rule:"):
        try:
            st.session_state[f"{P}_broken_report"] = k8s.save_manifest(settings, learner, text)
        except k8s.K8sError as exc:
            st.error(exc.message(lang))
    right.button(
        t("k8s.broken_restart"), key=f"{P}_broken_restart", on_click=_restart_broken, icon=":material/restart_alt:"
    )
    report = st.session_state.get(f"{P}_broken_report")
    if report is not None:
        st.caption(t("k8s.broken_saved", path=k8s.manifest_location(settings, learner)))
        _report(report)
    with st.expander(t("k8s.broken_hints"), icon=":material/lightbulb:"):
        st.markdown(t("k8s.broken_hints_text"))
    show_code(k8s.apply_code("manifest.yaml"), language="bash")


# ----------------------------------------------------------------------------------------------
# Autoscaling
# ----------------------------------------------------------------------------------------------


def _sizing_params() -> dict:
    """The sizing exercise's scenario, as the teacher set it in the exercise file."""
    from workbench.chapters.ch09_kubernetes import lab as k8s
    from workbench.core.exercises import load_exercises

    for exercise in load_exercises("09_kubernetes").hands_on:
        if exercise.check.endswith(":check_hpa_sizing"):
            return {**k8s.SIZING, **exercise.params}
    return dict(k8s.SIZING)


def autoscale_tab() -> None:
    """Traffic → HPA replicas → latency and cost, minute by minute over a day; the sizing exercise."""
    from workbench.chapters.ch09_kubernetes import lab as k8s

    lang = current_lang()
    st.markdown(t("k8s.autoscale_intro"))
    _formula()
    scenario = _sizing_params()
    st.subheader(t("k8s.sim_title"))
    cols = st.columns(4)
    peak = cols[0].slider(t("k8s.peak_rps"), 50, 1500, int(scenario["peak_rps"]), 50, key=f"{P}_peak")
    slo = cols[1].slider(t("k8s.slo_ms"), 50, 1000, int(scenario["slo_ms"]), 10, key=f"{P}_slo")
    spike = cols[2].toggle(t("k8s.spike"), False, key=f"{P}_spike", help=t("k8s.spike_help"))
    capacity = cols[3].slider(t("k8s.pod_capacity"), 10, 100, 40, 5, key=f"{P}_capacity")
    cols = st.columns(4)
    low = cols[0].slider(t("k8s.min_replicas"), 1, 20, 2, key=f"{P}_sim_min")
    high = cols[1].slider(t("k8s.max_replicas"), 1, 60, 10, key=f"{P}_sim_max")
    target = cols[2].slider(t("k8s.target_cpu"), 20, 100, 70, 5, key=f"{P}_sim_target")
    startup = cols[3].slider(t("k8s.startup"), 0, 10, 2, key=f"{P}_startup")
    config = k8s.HpaConfig(
        min_replicas=low,
        max_replicas=max(high, low),
        target_cpu=target,
        pod_capacity_rps=float(capacity),
        startup_minutes=startup,
    )
    if high < low:
        st.warning(t("k8s.max_below_min", max=high, min=low))
    result = k8s.simulate_autoscaling(k8s.daily_traffic(float(peak), spike=spike), config, float(slo))
    _metrics(result)
    st.plotly_chart(k8s.autoscaling_figure(result, lang), width="stretch", key=f"{P}_sim_figure")
    show_code(k8s.hpa_yaml(config), language="yaml", title=t("k8s.hpa_yaml"))
    _sizing(config, scenario)


def _formula() -> None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    with st.container(border=True):
        st.markdown(t("k8s.formula_intro"))
        cols = st.columns(4)
        current = number_field(
            t("k8s.formula_current"),
            key=f"{P}_f_current",
            value=3,
            min_value=1,
            max_value=100,
            integer=True,
            container=cols[0],
        )
        metric = number_field(
            t("k8s.formula_metric"),
            key=f"{P}_f_metric",
            value=140,
            min_value=0,
            max_value=500,
            integer=True,
            container=cols[1],
        )
        target = number_field(
            t("k8s.formula_target"),
            key=f"{P}_f_target",
            value=70,
            min_value=1,
            max_value=100,
            integer=True,
            container=cols[2],
        )
        if None in (current, metric, target):
            return
        desired = k8s.hpa_desired_replicas(int(current), float(metric), float(target), 1, 1000)
        cols[3].metric(t("k8s.formula_desired"), desired)
        st.latex(rf"\left\lceil {int(current)} \times \frac{{{int(metric)}}}{{{int(target)}}} \right\rceil = {desired}")
        if abs(metric / target - 1) <= 0.1:
            st.caption(t("k8s.formula_tolerance"))


def _metrics(result) -> None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    lang = current_lang()
    cols = st.columns(5)
    worst = result.peak_p95_ms
    saturated = worst >= k8s.SATURATED_MS
    cols[0].metric(t("k8s.m_worst_p95"), t("k8s.saturated") if saturated else fmt.milliseconds(worst, lang))
    cols[1].metric(t("k8s.m_over_slo"), result.minutes_over_slo)
    cols[2].metric(t("k8s.m_max_pods"), result.max_replicas_used)
    cols[3].metric(t("k8s.m_pod_hours"), fmt.number(result.pod_hours, lang, 1))
    cols[4].metric(t("k8s.m_cost"), fmt.dollars(result.cost, lang))
    if result.dropped_share > 0:
        st.error(t("k8s.dropped", share=100 * result.dropped_share), icon=":material/error:")
    st.caption(t("k8s.sim_model", capacity=result.config.pod_capacity_rps, price=result.config.pod_hour_price))


def _sizing(config, scenario: dict) -> None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    st.subheader(t("k8s.sizing_title"))
    st.markdown(
        t("k8s.sizing_intro", peak=scenario["peak_rps"], slo=scenario["slo_ms"], tolerance=100 * scenario["tolerance"])
    )
    choice = k8s.HpaConfig(config.min_replicas, config.max_replicas, config.target_cpu)
    result = k8s.simulate_autoscaling(
        k8s.sizing_traffic(float(scenario["peak_rps"])), choice, float(scenario["slo_ms"])
    )
    cols = st.columns(3)
    cols[0].metric(t("k8s.sizing_choice"), f"{choice.min_replicas}–{choice.max_replicas} · {choice.target_cpu} %")
    worst = result.peak_p95_ms
    saturated = worst >= k8s.SATURATED_MS
    lang = current_lang()
    cols[1].metric(
        t("k8s.m_worst_p95"),
        t("k8s.saturated") if saturated else fmt.milliseconds(worst, lang),
        delta=None if saturated else f"{fmt.integer(worst - scenario['slo_ms'], lang, sign=True)}\u00a0ms",
        delta_color="inverse",
    )
    cols[2].metric(t("k8s.m_cost"), fmt.dollars(result.cost, lang))
    if st.button(t("k8s.sizing_save"), key=f"{P}_sizing_save", icon=":material/save:"):
        k8s.save_sizing(get_settings(), current_learner(), choice)
        st.success(t("k8s.sizing_saved", min=choice.min_replicas, max=choice.max_replicas, target=choice.target_cpu))


# ----------------------------------------------------------------------------------------------
# GKE and Cloud Build
# ----------------------------------------------------------------------------------------------


def gke_tab() -> None:
    """The project's manifests validated, cloudbuild.yaml step by step, the gcloud/kubectl commands explained."""
    from workbench.chapters.ch09_kubernetes import lab as k8s

    lang = current_lang()
    settings = get_settings()
    st.info(t("k8s.offline"), icon=":material/cloud_off:")
    notes = k8s.k8s_annotations(settings)

    st.subheader(t("k8s.shipped_title"))
    reports = k8s.validate_shipped(settings)
    overall = reports["*"]
    errors = sum(len(r.errors) for r in reports.values())
    if errors:
        st.error(t("k8s.shipped_errors", n=errors))
    else:
        st.success(
            t("k8s.shipped_ok", n=len(overall.documents), files=len(reports) - 1, version=overall.version),
            icon=":material/verified:",
        )
    st.caption(pick(notes.get("service_links", {}), lang))
    for name, text in k8s.shipped_manifests(settings).items():
        report = reports[name]
        with st.expander(f"deploy/k8s/{name} — {', '.join(report.kinds())}", icon=":material/description:"):
            st.markdown(pick(notes.get("manifests", {}).get(name, {}), lang))
            dataframe(k8s.resources_table(report.documents, lang), key=f"{P}_res_{name}")
            if report.problems:
                _report(report)
            st.code(text, language="yaml", line_numbers=True)
    if overall.problems:  # cross-file checks (selectors, ports, references across the three files)
        _report(overall)

    st.subheader(t("k8s.cloudbuild_title"))
    st.markdown(t("k8s.cloudbuild_intro"))
    for step_id, code, note in k8s.cloudbuild_steps(settings):
        with st.container(border=True):
            st.markdown(f"**{step_id}**")
            left, right = st.columns([3, 2])
            left.code(code, language="yaml")
            right.markdown(pick(note, lang) if note else t("k8s.no_note"))

    st.subheader(t("k8s.gke_title"))
    for number, step in enumerate(notes.get("gke_steps", []), start=1):
        st.markdown(f"**{number}.** {pick(step, lang)}")
        st.code(step["command"], language="bash")
    show_code("\n".join(step["command"] for step in notes.get("gke_steps", [])), language="bash")
