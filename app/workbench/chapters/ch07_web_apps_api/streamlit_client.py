"""Chapter VII: a Streamlit client of the prediction API, written by the learner and checked by running it.

The check runs the learner's saved script with Streamlit's AppTest in the sandbox of `learner_code`, with
`API_URL` pointing at a recording relay in front of the real API. For two applications it fills the form
(widgets found by the `key` of the API field they fill), clicks the button, and verifies that a request
carrying those values reached the API and that the page shows what the API answered (label and probability).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workbench.chapters.ch07_web_apps_api.learner_code import (
    LIMITS_PRELUDE,
    STREAMLIT_CLIENT_KEY,
    refused_in_class,
    run_to_end,
    sandbox,
    saved_script,
)
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate

MARK = "WORKBENCH-CHECK "
TIMEOUT = 120.0
#: the applications the check types into the learner's form (fields not in the form keep the script's values)
CASES: tuple[dict[str, Any], ...] = (
    {"ApplicantIncome": 2500, "LoanAmount": 300, "Credit_History": 0},
    {"ApplicantIncome": 9000, "LoanAmount": 90, "Credit_History": 1},
)

RUNNER = (
    LIMITS_PRELUDE
    + f'''
import json, sys
from streamlit.testing.v1 import AppTest

path, cases = sys.argv[1], json.loads(sys.argv[2])
INPUTS = ("number_input", "selectbox", "radio", "text_input", "slider", "select_slider", "text_area")
SHOWN = ("title", "header", "subheader", "markdown", "caption", "text", "code", "json", "success", "info",
         "warning", "error", "metric", "table", "dataframe")


def widget(at, key):
    for kind in INPUTS:
        try:
            return getattr(at, kind)(key=key)
        except (KeyError, AttributeError):
            continue
    return None


def shown(at):
    texts = []
    for kind in SHOWN:
        for element in getattr(at, kind, []):
            if kind == "metric":
                texts.append(f"{{element.label}} {{element.value}}")
            elif kind in ("table", "dataframe"):
                texts.append(element.value.to_string())
            else:
                texts.append(str(element.value))
    return texts


def errors(at):
    return [str(getattr(e, "message", e)) for e in at.exception]


at = AppTest.from_file(path, default_timeout=30)
at.run()
out = {{"load_errors": errors(at), "cases": []}}
for case in cases:
    absent = [key for key in case if widget(at, key) is None]
    if absent:
        out["absent"] = absent
        break
    if not at.button:
        out["no_button"] = True
        break
    for key, value in case.items():
        widget(at, key).set_value(value)
    at.button[0].click().run()
    out["cases"].append({{"texts": shown(at), "errors": errors(at)}})
print("{MARK}" + json.dumps(out), flush=True)
'''
)


@dataclass
class Exchange:
    """One request the learner's script sent through the relay, and the API's answer."""

    method: str
    path: str
    body: Any
    status: int
    answer: Any


@dataclass
class RecordingRelay:
    """A loopback HTTP relay to the API that records every exchange (what really reached the API)."""

    target: str
    exchanges: list[Exchange] = field(default_factory=list)

    def __enter__(self) -> RecordingRelay:
        import requests

        relay = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                try:
                    reply = requests.request(
                        self.command, relay.target + self.path, data=raw, headers=headers, timeout=30
                    )
                    status, content = reply.status_code, reply.content
                except requests.RequestException:
                    status, content = 502, b'{"detail": "the API did not answer"}'
                relay.exchanges.append(Exchange(self.command, self.path, _json(raw), status, _json(content)))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = _forward

            def log_message(self, *args: Any) -> None:  # quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientRun:
    """What the learner's script did under AppTest: per case, the page's texts; and the relay's log."""

    output: dict
    exchanges: list[Exchange]
    timed_out: bool = False
    crash: str = ""


def run_client(script: str, api_url: str, cases: tuple[dict[str, Any], ...] = CASES) -> ClientRun:
    """Run the learner's Streamlit script under AppTest, in the sandbox, against the API behind a relay."""
    with sandbox() as box, RecordingRelay(api_url) as relay:
        path = box.write("client.py", script)
        proc = box.start(["-c", RUNNER, str(path), json.dumps(list(cases))], {"API_URL": relay.url})
        out, timed_out = run_to_end(proc, TIMEOUT)
        marked = [line[len(MARK) :] for line in out.splitlines() if line.startswith(MARK)]
        output = json.loads(marked[-1]) if marked else {}
        return ClientRun(output, list(relay.exchanges), timed_out, "" if marked else box.errors())


def _numbers(texts: list[str]) -> list[float]:
    found = re.findall(r"-?\d+(?:[.,]\d+)?", " ".join(texts).replace("\u202f", " "))
    return [float(n.replace(",", ".")) for n in found]


def shows_answer(texts: list[str], answer: dict) -> bool:
    """True when the page shows the API's label and its probability (as 0.73, 0,73, 73 % or 73.2%)."""
    label = str(answer.get("label", ""))
    if not label or not re.search(rf"\b{re.escape(label)}\b", " ".join(texts), re.IGNORECASE):
        return False
    p = float(answer.get("probability", -1))
    return any(abs(n - p) <= 0.0051 or abs(n - 100 * p) <= 0.51 for n in _numbers(texts))


def _carries(body: Any, case: dict[str, Any]) -> bool:
    if not isinstance(body, dict):
        return False
    try:
        return all(float(body.get(key)) == float(value) for key, value in case.items())
    except (TypeError, ValueError):
        return False


def judge_client(run: ClientRun, lang: str, cases: tuple[dict[str, Any], ...] = CASES) -> list[str]:
    """What is still missing in the learner's client (empty: it works)."""
    if run.timed_out:
        return [translate("api.client_timeout", lang, seconds=TIMEOUT)]
    output = run.output
    if not output:
        return [translate("api.client_crashed", lang, output=run.crash.strip()[-600:] or "—")]
    if output.get("load_errors"):
        return [translate("api.client_raised", lang, error=output["load_errors"][0][:400])]
    if output.get("absent"):
        return [translate("api.client_no_inputs", lang, keys=", ".join(output["absent"]))]
    if output.get("no_button"):
        return [translate("api.client_no_button", lang)]
    for case, seen in zip(cases, output.get("cases", [])):
        values = ", ".join(f"{k}={v}" for k, v in case.items())
        if seen["errors"]:
            return [translate("api.client_raised", lang, error=seen["errors"][0][:400])]
        sent = [e for e in run.exchanges if e.method == "POST" and e.path.rstrip("/").endswith("/predict")]
        if not sent:
            return [translate("api.client_no_request", lang)]
        matching = [e for e in sent if _carries(e.body, case)]
        if not matching:
            return [translate("api.client_wrong_values", lang, values=values)]
        exchange = matching[-1]
        if exchange.status != 200 or not isinstance(exchange.answer, dict):
            return [translate("api.client_api_refused", lang, status=exchange.status, values=values)]
        if not shows_answer(seen["texts"], exchange.answer):
            return [translate("api.client_not_shown", lang, values=values)]
    return []


def check_streamlit_client(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's Streamlit script, run with AppTest against the running API, sends the form's
    values to /predict and shows the API's answer, for two different applications."""
    from workbench.core import api_client

    lang = ctx.lang
    if (refusal := refused_in_class(ctx)) is not None:
        return refusal
    script = saved_script(ctx.settings, ctx.learner, STREAMLIT_CLIENT_KEY)
    if not script:
        return failed(translate("api.client_none", lang))
    if not api_client.status(ctx.settings).healthy:
        return failed(translate("api.client_api_down", lang))
    run = run_client(script, api_client.api_url(ctx.settings))
    missing = judge_client(run, lang)
    evidence = {"requests": len(run.exchanges)}
    if missing:
        return failed(*missing, evidence=evidence)
    return passed(translate("api.client_ok", lang, n=len(CASES)), evidence=evidence)
