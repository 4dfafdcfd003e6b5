"""Chapter VII lab tabs: the API server, one prediction, a batch, validation errors, load test, proxies."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import api_client
from workbench.core import formatting as fmt
from workbench.core.i18n import translate
from workbench.core.services import ServiceStatus
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, current_learner, error_text, t
from workbench.ui.widgets import dataframe, number_field, show_code

P = get_chapter("ch07_web_apps_api").prefix  # widget key prefix, from the chapter


@dataclass(frozen=True)
class SentBatch:
    """A CSV the learner sent to /predict_batch and the API's answer."""

    result: api_client.CallResult
    content: bytes


def _api_is_up() -> bool:
    if api_client.status().healthy:
        return True
    st.warning(t("api.not_running"), icon=":material/power_off:")
    return False


def api_controls(prefix: str, on_stop: Callable[[], None] | None = None) -> ServiceStatus:
    """Start/stop/refresh buttons for the local API and its status; returns the status shown.

    Used by chapter VII and by the live monitoring of chapter X (`prefix` keys the widgets).
    """
    settings = get_settings()
    url = api_client.api_url(settings)
    status = api_client.status(settings)
    if settings.class_mode:
        return _class_api_status(prefix, status, url)
    start_col, stop_col, refresh_col = st.columns(3)
    if start_col.button(
        t("api.start"), key=f"{prefix}_start", disabled=status.healthy, type="primary", icon=":material/play_arrow:"
    ):
        with st.spinner(t("api.starting")):
            try:
                api_client.start(settings)
            except RuntimeError as exc:
                st.session_state[f"{prefix}_start_error"] = exc  # explained in the language shown at the time
            else:
                st.session_state.pop(f"{prefix}_start_error", None)
        st.rerun()
    if stop_col.button(t("api.stop"), key=f"{prefix}_stop", disabled=status.pid is None, icon=":material/stop:"):
        api_client.stop(settings)
        if on_stop is not None:
            on_stop()
        st.rerun()
    refresh_col.button(t("api.refresh"), key=f"{prefix}_refresh", icon=":material/refresh:")
    if error := st.session_state.get(f"{prefix}_start_error"):
        st.error(t("api.start_failed", error=error_text(error)))
    if not status.healthy:
        st.info(t("api.stopped"), icon=":material/power_off:")
        show_code(f"python -m workbench.api --host {settings.api_host} --port {settings.api_port}", language="bash")
    elif status.pid is not None:
        st.success(t("api.running", url=url, pid=status.pid), icon=":material/check_circle:")
    else:
        st.success(t("api.running_external", url=url), icon=":material/check_circle:")
    return status


def _class_api_status(prefix: str, status: ServiceStatus, url: str) -> ServiceStatus:
    """Class mode: the shared API, run for the class (no start/stop here), and the learner's own routes."""
    settings = get_settings()
    learner = current_learner()
    st.button(t("api.refresh"), key=f"{prefix}_refresh", icon=":material/refresh:")
    if not status.healthy:
        st.warning(t("api.class_unreachable", url=url), icon=":material/power_off:")
        return status
    st.success(t("api.running_external", url=url), icon=":material/check_circle:")
    st.markdown(
        t(
            "api.class_shared",
            url=url,
            prefix=api_client.learner_prefix(learner, settings),
            alias=settings.api_alias,
            model=settings.learner_model_name(learner),
        )
    )
    return status


def server_tab() -> None:
    """Start/stop the API process, its status from /health, the model it serves, links to the docs."""
    settings = get_settings()
    url = api_client.api_url(settings)
    st.markdown(t("api.server_intro", alias=settings.api_alias, url=url))
    if not api_controls(P).healthy:
        return
    st.markdown(t("api.docs_link", url=url))
    if settings.class_mode:
        _own_routes_with_curl()
    info = api_client.call("GET", "/model", learner=current_learner())
    if info.ok:
        body = info.body
        st.subheader(t("api.model_served"))
        cols = st.columns(4)
        fallback = body["source"] == "fallback"
        cols[0].metric(t("mlflow.col_version"), t("api.version_fallback") if fallback else body["version"])
        cols[1].metric(t("api.metric_alias"), f"@{body['alias']}" if body["alias"] else "—")
        cols[2].metric(t("api.metric_source"), t(f"api.source_{body['source']}"))
        cols[3].metric("F1", fmt.number(body["metrics"].get("f1"), current_lang(), 3))
        if not fallback:
            st.caption(t("api.source_detail_registry", name=body["name"], alias=body["alias"], version=body["version"]))
        elif not body.get("refused") and not body.get("registry_problem"):  # otherwise the reason is told below
            st.caption(t("api.source_detail_fallback", alias=settings.api_alias))
        _serving_path(body.get("serving"))
        _serving_problems(body)
    if st.button(t("api.reload"), key=f"{P}_reload", icon=":material/sync:"):
        result = api_client.call("POST", "/reload", timeout=120, learner=current_learner())
        if result.ok:
            st.success(t("api.reloaded", version=result.body["version"]))
            _serving_problems(result.body)
        else:
            detail = result.body.get("detail") if isinstance(result.body, dict) else result.body
            st.error(t("api.call_failed", error=result.error or f"HTTP {result.status_code}: {detail}"))
    show_code(
        f"python -m workbench.api --host {settings.api_host} --port {settings.api_port}\n"
        f"curl -s {url}/health\ncurl -s {url}/model",
        language="bash",
    )


def _own_routes_with_curl() -> None:
    """Class mode: the signed-in learner's own API token (theirs only) and a ready curl on their route, on demand."""
    settings = get_settings()
    learner = current_learner()
    url = api_client.api_url(settings) + api_client.learner_path("/predict", learner, settings)
    token = api_client.learner_api_token(learner, settings)
    with st.expander(t("api.own_token_title"), icon=":material/key:"):
        st.markdown(t("api.own_token_intro" if token else "api.own_token_open", url=url))
        if token:
            st.code(token, language=None)
        st.code(api_client.curl_command(url, api_client.sample_applications(1)[0], token), language="bash")


def _serving_path(serving: dict | None) -> None:
    """Which of the three paths serves the model (compiled, batched, plain), from GET /model."""
    if not isinstance(serving, dict) or serving.get("path") not in ("compiled", "batched", "plain"):
        return  # an API of another version
    path, step = serving["path"], serving.get("unsupported_step")
    if path == "batched" and not step:
        path = "batched_no_step"
    st.caption(t(f"api.serving_{path}", step=step))


def _serving_problems(info: dict) -> None:
    """What the API refused or could not do (from GET /model), in the learner's language."""
    lang = current_lang()
    refused = info.get("refused")
    if refused:
        reason = translate(f"model_safety.{refused['reason']}", lang, **refused.get("params", {}))
        if reason.startswith("model_safety."):  # an API of another version: its own English message
            reason = refused["message"]
        key = "api.refused_fallback" if info.get("source") == "fallback" else "api.refused"
        st.error(
            t(key, version=refused["version"], alias=get_settings().api_alias, reason=reason), icon=":material/gpp_bad:"
        )
    if info.get("registry_problem"):
        st.warning(t("api.registry_problem", detail=info["registry_problem"]), icon=":material/cloud_off:")
    if info.get("alias_missing"):
        st.warning(
            t("api.alias_missing", alias=get_settings().api_alias, version=info["version"]), icon=":material/link_off:"
        )


def _application_form() -> dict:
    from workbench.core.data import CATEGORIES, NULLABLE, NUMERIC_RANGES

    lang = current_lang()
    unknown = translate("api.unknown", lang)
    example = api_client.EXAMPLE_APPLICATION
    values: dict = {}
    left, middle, right = st.columns(3)
    for i, (field, choices) in enumerate(CATEGORIES.items()):
        options = [*choices, None] if field in NULLABLE else list(choices)
        column = (left, middle, right)[i % 3]
        values[field] = column.selectbox(
            field,
            options,
            index=options.index(example[field]),
            key=f"{P}_form_{field}",
            format_func=lambda v: unknown if v is None else v,
        )
    for column, field in ((left, "ApplicantIncome"), (middle, "CoapplicantIncome"), (right, "LoanAmount")):
        low, high = NUMERIC_RANGES[field]  # whole amounts inside the loan schema's interval
        values[field] = number_field(
            field,
            key=f"{P}_form_{field}",
            value=example[field],
            min_value=low,
            max_value=high,
            integer=True,
            container=column,
        )  # None: explained, not sent
    terms = [360, 180, 480, 300, 240, 120, 84, 60, 36, 12, None]
    values["Loan_Amount_Term"] = left.selectbox(
        "Loan_Amount_Term",
        terms,
        key=f"{P}_form_Loan_Amount_Term",
        format_func=lambda v: unknown if v is None else str(v),
    )
    values["Credit_History"] = middle.selectbox(
        "Credit_History",
        [1, 0, None],
        key=f"{P}_form_Credit_History",
        format_func=lambda v: unknown if v is None else str(v),
    )
    return {k: values[k] for k in example}


def predict_tab() -> None:
    """A loan application form → the request JSON, the response, the latency, curl and requests code."""
    from workbench.chapters.ch07_web_apps_api import lab as api_lab

    st.markdown(t("api.form_intro"))
    application = _application_form()
    endpoint = st.radio(t("api.endpoint"), ["/predict", "/predict_status"], horizontal=True, key=f"{P}_endpoint")
    incomplete = any(application[f] is None for f in ("ApplicantIncome", "CoapplicantIncome", "LoanAmount"))
    if st.button(t("api.send"), key=f"{P}_send", type="primary", icon=":material/send:", disabled=incomplete):
        if _api_is_up():
            result = api_client.predict(application, path=endpoint, learner=current_learner())
            api_lab.record_call(get_settings(), current_learner(), result)
            st.session_state[f"{P}_last_call"] = result
    result = st.session_state.get(f"{P}_last_call")
    if result is not None:
        _show_exchange(result)
        if result.ok and isinstance(result.body, dict) and "probability" in result.body:
            approved = result.body["prediction"] == "Y"
            (st.success if approved else st.warning)(
                t(
                    "api.decision_approved" if approved else "api.decision_rejected",
                    probability=result.body["probability"],
                )
            )
    settings = get_settings()
    url = api_client.api_url(settings) + api_client.learner_path(endpoint, current_learner(), settings)
    # class mode: the learner's own route, with their token from the server tab (never written into the page here)
    token = "$API_TOKEN" if settings.class_mode and api_client.learner_api_token(current_learner(), settings) else None
    if token:
        st.caption(t("api.snippet_token"))
    show_code(api_client.curl_command(url, application, token), title=t("api.as_curl"), language="bash")
    show_code(api_client.requests_code(url, application, token), title=t("api.as_requests"))


def _explain_status(result: api_client.CallResult) -> None:
    """What an error status means, in the learner's language (the API's own `detail` stays in the JSON)."""
    status = result.status_code or 0
    detail = result.body.get("detail", "") if isinstance(result.body, dict) else ""
    if status == 413:
        st.error(t("api.explain_413", max=fmt.integer(get_settings().api_max_body_bytes, current_lang())))
    elif status == 429:
        st.error(t("api.explain_429", retry=result.headers.get("retry-after", "?") if result.headers else "?"))
    elif status in (400, 415):
        st.error(t(f"api.explain_{status}", detail=detail))
    elif status >= 500:
        st.error(t("api.explain_5xx", status=status))


def _errors_table(errors: list[dict[str, str]]) -> pd.DataFrame:
    """A 422's field errors with headers in the learner's language (the API's messages stay as sent)."""
    return pd.DataFrame(errors).rename(columns=lambda c: t(f"api.col_{c}"))


def _show_exchange(result: api_client.CallResult) -> None:
    if result.error:
        st.error(t("api.call_failed", error=result.error))
        return
    _explain_status(result)
    left, right = st.columns(2)
    with left:
        upload = isinstance(result.request, dict) and result.request.get("content_type") == "multipart/form-data"
        st.caption(t("api.request_file" if upload else "api.request") + f" — {result.method} {result.url}")
        st.code(api_client.request_text(result.request), language="json")
    with right:
        st.caption(t("api.response", status=result.status_code, latency=result.latency_ms))
        st.json(result.body, expanded=True)


def batch_tab() -> None:
    """Batch predictions from an uploaded CSV (or a sample of the course data), with download."""
    from workbench.core.data import FEATURES, ID

    settings = get_settings()
    st.markdown(t("api.batch_intro", max=settings.api_max_batch))
    upload = st.file_uploader(t("api.upload"), type=["csv"], key=f"{P}_upload")
    rows = st.slider(t("api.sample_rows"), 10, 1000, 100, 10, key=f"{P}_sample_rows", disabled=upload is not None)
    if st.button(t("api.send_batch"), key=f"{P}_send_batch", type="primary", icon=":material/table_view:"):
        if _api_is_up():
            if upload is not None:
                content, name = upload.getvalue(), upload.name
            else:
                from workbench.ui.resources import course_data

                content, name = (
                    course_data().head(rows).drop(columns=["Loan_Status"]).to_csv(index=False).encode(),
                    "sample.csv",
                )
            from workbench.chapters.capstone import record_batch_call

            sent = api_client.predict_csv(content, name, learner=current_learner())
            record_batch_call(settings, current_learner(), sent)  # the capstone's batch criterion reads it
            st.session_state[f"{P}_batch"] = SentBatch(sent, content)
    stored: SentBatch | None = st.session_state.get(f"{P}_batch")
    if stored is None:
        return
    result, content = stored.result, stored.content
    if not result.ok:
        _show_exchange(result)
        errors = api_client.validation_errors(result)
        if errors:
            dataframe(_errors_table(errors))
        return
    from workbench.core.csv_tables import read_applications_csv, to_csv_bytes

    table_read = read_applications_csv(content.decode("utf-8-sig"))
    if table_read.delimiter != ",":
        st.info(t("api.semicolon_read", delimiter=table_read.delimiter), icon=":material/info:")
    inputs = table_read.frame
    predictions = pd.DataFrame(result.body["predictions"])
    table = pd.concat(
        [
            inputs[[c for c in (ID, *FEATURES) if c in inputs]].reset_index(drop=True),
            predictions[["prediction", "label", "probability"]],
        ],
        axis=1,
    )
    version = result.body["model_version"]
    st.success(
        t(
            "api.batch_done",
            count=result.body["count"],
            latency=result.latency_ms,
            approved=int((predictions["prediction"] == "Y").sum()),
            version=t("api.version_fallback") if version == "fallback" else version,
        )
    )
    shown = table.rename(columns={c: t(f"api.col_{c}") for c in ("prediction", "label", "probability")})
    dataframe(shown, formats={t("api.col_probability"): "percent"}, key=f"{P}_batch_table")
    st.caption(t("api.download_safe"))
    st.download_button(
        t("api.download"),
        to_csv_bytes(table),
        "predictions.csv",
        "text/csv",
        key=f"{P}_download",
        icon=":material/download:",
    )
    show_code(f'''import requests

with open("applications.csv", "rb") as f:
    response = requests.post("{api_client.api_url()}/predict/batch", files={{"file": f}}, timeout=60)
print(response.json()["count"], response.json()["predictions"][:3])
''')


def errors_tab() -> None:
    """Send an invalid payload on purpose and read the 422 field errors."""
    from workbench.chapters.ch07_web_apps_api import lab as api_lab

    lang = current_lang()
    st.markdown(t("api.errors_intro"))
    cases = list(api_lab.INVALID_CASES)
    case = st.selectbox(t("api.case"), cases, key=f"{P}_case", format_func=lambda c: translate(f"api.{c}", lang))
    text = st.text_area(
        t("api.payload"), json.dumps(api_lab.INVALID_CASES[case], indent=2), height=320, key=f"{P}_payload_{case}"
    )
    if st.button(t("api.send_invalid"), key=f"{P}_send_invalid", icon=":material/bug_report:"):
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            st.error(t("api.bad_json", line=exc.lineno, column=exc.colno, error=exc.msg))
        else:
            if _api_is_up():
                result = api_client.predict(payload, learner=current_learner())
                api_lab.record_call(get_settings(), current_learner(), result)
                st.session_state[f"{P}_invalid"] = result
    result = st.session_state.get(f"{P}_invalid")
    if result is None:
        return
    _show_exchange(result)
    if result.error:  # not sent: the error above says why, there is no HTTP status to discuss
        return
    errors = api_client.validation_errors(result)
    if result.status_code != 422:
        st.info(t("api.no_422", status=result.status_code))
        return
    st.subheader(t("api.field_errors"))
    dataframe(_errors_table(errors), key=f"{P}_errors_table")
    answer = st.text_input(t("api.which_field"), key=f"{P}_field_answer", max_chars=40)
    if st.button(t("api.save_answer"), key=f"{P}_save_field", disabled=not answer.strip()):
        api_lab.record_field_answer(get_settings(), current_learner(), answer)
        st.success(t("api.answer_saved"))


def load_tab() -> None:
    """A small load test (requests × concurrency) → histogram, throughput, percentiles; single vs batch."""
    from workbench.chapters.ch07_web_apps_api import lab as api_lab
    from workbench.core.loadtest import latency_histogram_figure

    st.markdown(t("api.load_intro"))
    left, right = st.columns(2)
    n_requests = left.select_slider(t("api.n_requests"), [100, 200, 500, 1000, 2000, 5000], 500, key=f"{P}_n_requests")
    concurrency = right.select_slider(t("api.concurrency"), [1, 2, 4, 8, 16, 32], 4, key=f"{P}_concurrency")
    if st.button(t("api.run_load"), key=f"{P}_run_load", type="primary", icon=":material/speed:") and _api_is_up():
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=t("api.load_progress", done=done, total=total))

        result = api_client.load_test(n_requests, concurrency, progress=progress, learner=current_learner())
        api_lab.record_load_test(
            get_settings(),
            current_learner(),
            result.percentile(50),
            result.percentile(95),
            result.percentile(99),
            result.throughput,
        )
        st.session_state[f"{P}_load"] = result
    result = st.session_state.get(f"{P}_load")
    if result is not None:
        cols = st.columns(5)
        lang = current_lang()
        cols[0].metric(t("api.throughput"), fmt.integer(result.throughput, lang))
        cols[1].metric("p50 (ms)", fmt.number(result.percentile(50), lang, 2))
        cols[2].metric("p95 (ms)", fmt.number(result.percentile(95), lang, 2))
        cols[3].metric("p99 (ms)", fmt.number(result.percentile(99), lang, 2))
        cols[4].metric(t("api.errors"), result.requests - result.ok)
        st.plotly_chart(latency_histogram_figure(result, lang), width="stretch", key=f"{P}_histogram")
        answer = number_field(
            t("api.p95_question"), key=f"{P}_p95_answer", value=0.0, min_value=0.0, max_value=100_000.0, digits=2
        )
        if st.button(t("api.save_answer"), key=f"{P}_save_p95", disabled=answer is None or answer <= 0):
            api_lab.record_p95_answer(get_settings(), current_learner(), answer)
            st.success(t("api.answer_saved"))
    url = api_client.api_url() + api_client.learner_path("/predict", current_learner())
    token = api_client.learner_api_token(current_learner())
    auth = f", headers={{'Authorization': 'Bearer {token}'}}" if token else ""
    show_code(f'''from workbench.core.loadtest import json_bodies, run_load
from workbench.core.api_client import sample_applications

bodies = json_bodies(sample_applications(500))
result = run_load("{url}", bodies, n_requests={n_requests}, concurrency={concurrency}{auth})
print(result.throughput, result.percentile(50), result.percentile(95), result.percentile(99))
''')

    st.subheader(t("api.single_vs_batch"))
    st.markdown(t("api.single_vs_batch_intro"))
    rows = st.select_slider(t("api.compare_rows"), [100, 250, 500, 1000], 250, key=f"{P}_compare_rows")
    if st.button(t("api.compare_run"), key=f"{P}_compare", icon=":material/compare:") and _api_is_up():
        try:
            st.session_state[f"{P}_single_vs_batch"] = api_client.single_vs_batch(rows, learner=current_learner())
        except RuntimeError as exc:
            st.error(t("api.call_failed", error=error_text(exc)))
    comparison = st.session_state.get(f"{P}_single_vs_batch")
    if comparison is not None:
        st.info(
            t(
                "api.compare_result",
                single=comparison.single_seconds,
                batch=comparison.batch_seconds,
                speedup=comparison.speedup,
            )
        )


def proxy_tab() -> None:
    """The repository's nginx.conf and gunicorn config, explained line by line."""
    from workbench.ui.chapters.ch06_docker import annotated_file

    st.markdown(t("api.proxy_intro"))
    st.caption(t("api.nginx_note"))
    annotated_file("deploy/nginx.conf", "nginx", language="nginx")
    annotated_file("deploy/gunicorn.conf.py", "gunicorn", language="python")


# ----------------------------------------------------------------------------------------------
# Clients: a Streamlit front end of the API, a Flask app made safe (learner code, checked by running it)
# ----------------------------------------------------------------------------------------------


def clients_tab() -> None:
    """Two editors: the learner's Streamlit client of the API, and the Flask app to make safe."""
    from workbench.chapters.ch07_web_apps_api import learner_code

    settings = get_settings()
    st.markdown(t("api.clients_intro"))
    if settings.class_mode:
        st.info(t("api.code_class_mode"), icon=":material/dns:")
    st.subheader(t("api.client_title"))
    url = api_client.api_url(settings) + api_client.learner_prefix(current_learner(), settings)
    st.markdown(t("api.client_intro", url=url))
    _code_editor("client", learner_code.STREAMLIT_CLIENT_KEY, learner_code.STREAMLIT_TEMPLATE, "client.py")
    st.subheader(t("api.flask_title"))
    st.markdown(t("api.flask_intro"))
    _code_editor("flask", learner_code.FLASK_APP_KEY, learner_code.FLASK_TEMPLATE, "app.py")


def _code_editor(name: str, record_key: str, template: str, filename: str) -> None:
    """A monospace editor on one of the learner's scripts: save it (learner record), start again, download."""
    from workbench.chapters.ch07_web_apps_api import learner_code
    from workbench.ui.exercise_panel import forget_check_results
    from workbench.ui.widgets import monospace_editor

    settings, learner = get_settings(), current_learner()
    key = f"{P}_{name}_code"
    if key not in st.session_state:
        st.session_state[key] = learner_code.load_script(settings, learner, record_key, template)
    monospace_editor(key)
    text = st.text_area(t("api.code_editor"), key=key, height=420)
    save, reset, download = st.columns(3)
    if save.button(t("api.code_save"), key=f"{P}_{name}_save", type="primary", icon=":material/save:"):
        try:
            learner_code.save_script(settings, learner, record_key, text)
        except ValueError:
            st.error(t("api.code_too_big"))
        else:
            forget_check_results("07_web_apps_api")
            st.success(t("api.code_saved"), icon=":material/check:")
    reset.button(
        t("api.code_reset"),
        key=f"{P}_{name}_reset",
        icon=":material/restart_alt:",
        on_click=st.session_state.update,  # the editor shows the original again; saved only on "Save"
        args=({key: template},),
    )
    download.download_button(
        t("api.code_download"), text, file_name=filename, mime="text/x-python", key=f"{P}_{name}_download"
    )
