"""Chapter VII: Flask's `debug=True` risk, checked on the behaviour of the learner's fixed app.

`app.run(debug=True)` starts Werkzeug's interactive debugger: any error page then runs Python typed in the
browser (remote code execution for whoever reaches the port), and `host="0.0.0.0"` lets the whole network
reach it. The check runs the learner's file for real (in the sandbox of `learner_code`), with Werkzeug's
`run_simple` wrapped so that it records the address and options the app asked for, and always binds loopback
on a free port itself. It then provokes an error and reads the page: plain 500 or the debugger.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass

from workbench.chapters.ch07_web_apps_api.learner_code import (
    FLASK_APP_KEY,
    LIMITS_PRELUDE,
    refused_in_class,
    sandbox,
    saved_script,
    stop,
)
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate

ERROR_PATH = "/__workbench_check_error"  # a route the check adds: it raises
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEBUGGER_MARKS = ("__debugger__", "Werkzeug Debugger", "Traceback (most recent call last)")
VALID_BODY = {"ApplicantIncome": 4000}  # the app's own route must still work
MARK = "WORKBENCH-CHECK "  # starts the runner's own lines (Flask prints its banner on the same stream)

RUNNER = (
    LIMITS_PRELUDE
    + f'''
import json, runpy, sys
import werkzeug.serving

path, port = sys.argv[1], int(sys.argv[2])
original = werkzeug.serving.run_simple


def boom():
    raise RuntimeError("an unexpected error, raised by the workbench's check")


def run_simple(hostname, port_, application, use_reloader=False, use_debugger=False, use_evalex=True, **options):
    asked = {{"host": hostname, "port": port_, "debugger": bool(use_debugger), "evalex": bool(use_evalex)}}
    print("{MARK}" + json.dumps(asked), flush=True)
    application.add_url_rule("{ERROR_PATH}", "workbench_check_error", boom)
    original("127.0.0.1", port, application, use_reloader=False, use_debugger=use_debugger,
             use_evalex=use_evalex, **options)


werkzeug.serving.run_simple = run_simple
sys.argv = [path]
runpy.run_path(path, run_name="__main__")
print("{MARK}" + json.dumps({{"returned": True}}), flush=True)
'''
)


@dataclass(frozen=True)
class FlaskProbe:
    """What the learner's app did when run: the address and debugger it asked for, its answers."""

    started: bool
    host: str | None = None
    debugger: bool = False
    error_status: int | None = None
    error_leaks: bool = False  # the error page shows the debugger or a traceback
    score_status: int | None = None
    output: str = ""  # the end of what the program printed when it did not start

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK


def _marked_line(stream, timeout: float) -> dict:
    """The first line the runner marked (parsed), or {} when the program ends or times out before it."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    return {}


def probe_flask_app(text: str, debug_env: bool = False, timeout: float = 30.0) -> FlaskProbe:
    """Run the learner's Flask file as `python app.py` (FLASK_DEBUG=1 when `debug_env`), provoke an error."""
    import requests

    from workbench.core.services import free_port

    with sandbox() as box:
        path = box.write("app.py", text)
        port = free_port()
        proc = box.start(["-c", RUNNER, str(path), str(port)], {"FLASK_DEBUG": "1"} if debug_env else {})
        try:
            asked = _marked_line(proc.stdout, timeout)
            if "host" not in asked:
                stop(proc)
                return FlaskProbe(False, output=box.errors())
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                try:
                    error = requests.get(base + ERROR_PATH, timeout=5)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        return FlaskProbe(False, asked["host"], asked["debugger"])
                    time.sleep(0.1)
            try:
                score = requests.post(base + "/score", json=VALID_BODY, timeout=5).status_code
            except requests.RequestException:
                score = None
            return FlaskProbe(
                True,
                str(asked["host"]),
                bool(asked["debugger"]),
                error.status_code,
                any(mark in error.text for mark in DEBUGGER_MARKS),
                score,
            )
        finally:
            stop(proc)


def check_flask_debug(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's Flask app, run as is, listens on loopback, answers an error with a plain
    500 (no debugger, no traceback), still serves /score, and turns the debugger on only with FLASK_DEBUG=1."""
    lang = ctx.lang
    if (refusal := refused_in_class(ctx)) is not None:
        return refusal
    text = saved_script(ctx.settings, ctx.learner, FLASK_APP_KEY)
    if not text:
        return failed(translate("api.flask_none", lang))
    off = probe_flask_app(text)
    if not off.started:
        return failed(translate("api.flask_not_started", lang, output=off.output.strip() or "—"))
    missing = []
    if not off.loopback:
        missing.append(translate("api.flask_open_host", lang, host=off.host))
    if off.debugger or off.error_leaks:
        missing.append(translate("api.flask_debugger_on", lang))
    elif off.error_status != 500:
        missing.append(translate("api.flask_error_status", lang, status=off.error_status))
    if off.score_status != 200:
        missing.append(translate("api.flask_score_broken", lang, status=off.score_status or "—"))
    evidence = {"host": off.host, "debugger": off.debugger, "error_status": off.error_status}
    if not missing:  # safe by default; can a developer still turn the debugger on, without editing the code?
        on = probe_flask_app(text, debug_env=True)
        evidence["debugger_with_FLASK_DEBUG"] = on.debugger
        if not (on.started and on.debugger):
            missing.append(translate("api.flask_debug_not_env", lang))
    if missing:
        return failed(*missing, evidence=evidence)
    return passed(translate("api.flask_ok", lang, host=off.host), evidence=evidence)
