"""Chapter VII: code the learner writes in the app (a Streamlit client, a Flask app), saved as learner
records, and the sandbox its checks run it in.

Running a learner's code is their own code on their own laptop in solo mode: the checks run it in a child
process (its own process group, a scratch folder, an environment without the workbench's variables, CPU and
memory limits, a timeout). In class mode the app runs on a shared server, where a learner's script would run
with the server's rights: it could read the database, the secrets and the other learners' work. Limits do not
stop that (only an OS-level sandbox would), so in class mode these checks refuse to run learner code and say why.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.core.exercises import CheckContext, CheckResult, failed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

STREAMLIT_CLIENT_KEY = "ch07_web_apps_api/streamlit_client.py"  # the learner's Streamlit client of the API
FLASK_APP_KEY = "ch07_web_apps_api/flask_app.py"  # the learner's fixed Flask app
MAX_SCRIPT_BYTES = 50_000
CPU_SECONDS = 120  # a runaway loop is stopped by the kernel, not only by the timeout
MEMORY_BYTES = 3 * 1024**3

#: What the Streamlit client exercise starts from: the form is there, the call to the API is not.
STREAMLIT_TEMPLATE = '''"""A small front end for the loan API: fill in the form, get the model's decision."""

import os

import requests  # noqa: F401 - you will need it
import streamlit as st

API_URL = os.environ.get("API_URL", "http://127.0.0.1:8000")  # where the API listens
BASE = {
    "Gender": "Male", "Married": "Yes", "Dependents": "0", "Education": "Graduate",
    "Self_Employed": "No", "CoapplicantIncome": 0, "Loan_Amount_Term": 360, "Property_Area": "Urban",
}

st.title("Loan application")
income = st.number_input("ApplicantIncome", min_value=0, value=5000, key="ApplicantIncome")
amount = st.number_input("LoanAmount", min_value=1, value=128, key="LoanAmount")
history = st.selectbox("Credit_History", [1, 0], key="Credit_History")

if st.button("Predict"):
    application = {**BASE, "ApplicantIncome": income, "LoanAmount": amount, "Credit_History": history}
    st.write("TODO: send `application` to the API and show its answer")
'''

#: What the Flask exercise starts from: the course's `app.run(debug=True)`, open to every interface.
FLASK_TEMPLATE = '''"""A tiny scoring service, as in the course: Flask, one route."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/score")
def score():
    data = request.get_json()
    income = float(data["ApplicantIncome"])  # a missing field raises here: a 500
    return jsonify({"approved": income > 3000})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000, debug=True)
'''


def load_script(settings: Settings, learner: str, key: str, template: str) -> str:
    """The learner's saved script, or the exercise's starting point."""
    return records_for(settings, learner).get_text(key) or template


def save_script(settings: Settings, learner: str, key: str, text: str) -> None:
    """Save the learner's script (refuses one that is too big to be a small exercise).

    Raises:
        ValueError: the script is larger than MAX_SCRIPT_BYTES.
    """
    if len(text.encode()) > MAX_SCRIPT_BYTES:
        raise ValueError(f"script larger than {MAX_SCRIPT_BYTES} bytes")
    records_for(settings, learner).put_text(key, text)


def saved_script(settings: Settings, learner: str, key: str) -> str | None:
    """The learner's saved script (None when they saved none)."""
    return records_for(settings, learner).get_text(key)


def refused_in_class(ctx: CheckContext) -> CheckResult | None:
    """In class mode, the reason these checks do not run a learner's code on the shared server."""
    if ctx.settings.class_mode:
        return failed(translate("api.code_check_class_mode", ctx.lang))
    return None


def sandbox_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for learner code: none of the workbench's variables (database URL, tokens, paths)."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **(extra or {})}


#: The first lines of every runner: the child limits itself (a `preexec_fn` is unsafe in a threaded server).
LIMITS_PRELUDE = f"""
import resource
resource.setrlimit(resource.RLIMIT_CPU, ({CPU_SECONDS}, {CPU_SECONDS}))
try:
    resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_BYTES}, {MEMORY_BYTES}))
except (ValueError, OSError):
    pass
"""


@dataclass
class Sandbox:
    """A scratch folder holding the learner's script; `start` runs a Python program in it, isolated."""

    folder: Path

    def write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def errors(self, limit: int = 800) -> str:
        """The end of what the program wrote on stderr."""
        path = self.folder / "stderr.log"
        return path.read_text(encoding="utf-8", errors="replace")[-limit:] if path.exists() else ""

    def start(self, args: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start `python ARGS` in the folder, in its own process group, with limits and a clean environment."""
        return subprocess.Popen(
            [sys.executable, "-I", *args],  # -I: isolated (no user site, no PYTHON* variables, no cwd on sys.path)
            cwd=self.folder,
            env=sandbox_env({"HOME": str(self.folder), **(env or {})}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=(self.folder / "stderr.log").open("w"),  # a file: a chatty program never blocks on it
            text=True,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen) -> None:
    """Stop a sandboxed program and everything it started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@contextlib.contextmanager
def sandbox():
    """A scratch folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="workbench-learner-code-") as folder:
        yield Sandbox(Path(folder))


def run_to_end(proc: subprocess.Popen, timeout: float) -> tuple[str, bool]:
    """Wait for a sandboxed program; returns (stdout, timed out). The group is killed on timeout."""
    timer = threading.Timer(timeout, lambda: stop(proc))
    timer.start()
    try:
        out, _ = proc.communicate()
    finally:
        timer.cancel()
    return out, proc.returncode == -signal.SIGKILL
