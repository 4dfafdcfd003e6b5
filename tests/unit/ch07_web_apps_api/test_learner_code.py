"""Chapter VII hands-on checks that run the learner's own code: a Streamlit client of the API (AppTest against
the live API, behind a recording relay) and a Flask app made safe (run for real, an error provoked). Each
fails before the work and on the starting file, and passes after the real work; class mode refuses to run
learner code on the shared server."""

from __future__ import annotations

import pytest
from workbench.chapters.ch07_web_apps_api import flask_debug, learner_code, streamlit_client
from workbench.core import api_client
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

from tests.conftest import free_port

CALL_AND_SHOW = """    answer = requests.post(f"{API_URL}/predict", json=application, timeout=10).json()
    st.metric("Decision", answer["label"])
    st.metric("Probability", f"{answer['probability']:.0%}")
"""
TODO = '    st.write("TODO: send `application` to the API and show its answer")\n'
GOOD_CLIENT = learner_code.STREAMLIT_TEMPLATE.replace(TODO, CALL_AND_SHOW)
SAFE_RUN = 'app.run(host=os.environ.get("HOST", "127.0.0.1"), port=5000)'
OPEN_RUN = 'app.run(host="0.0.0.0", port=5000, debug=True)'


def _ctx(lang: str = "en") -> CheckContext:
    settings = get_settings()
    return CheckContext(settings.learner, lang, settings)


def _save(key: str, text: str) -> None:
    settings = get_settings()
    learner_code.save_script(settings, settings.learner, key, text)


def _flask(run_line: str) -> str:
    return "import os\n" + learner_code.FLASK_TEMPLATE.replace(OPEN_RUN, run_line)


# --- Flask's debug=True ------------------------------------------------------------------------------


def test_flask_check_fails_on_the_course_file_and_passes_once_safe() -> None:
    check = flask_debug.check_flask_debug
    assert "No file saved" in check(_ctx()).missing[0]
    _save(learner_code.FLASK_APP_KEY, learner_code.FLASK_TEMPLATE)  # the course's app, as the editor opens
    result = check(_ctx())
    assert not result.passed and result.evidence["host"] == "0.0.0.0" and result.evidence["debugger"]
    assert any("every network interface" in m for m in result.missing)
    assert any("Werkzeug's debugger" in m for m in result.missing)
    _save(learner_code.FLASK_APP_KEY, _flask("app.run(port=5000, debug=False)"))  # safe, but frozen off
    result = check(_ctx())
    assert not result.passed and "FLASK_DEBUG=1" in result.missing[0]
    _save(learner_code.FLASK_APP_KEY, _flask("app.run(port=5000, debug=True)"))  # loopback is not enough
    assert "Werkzeug's debugger" in check(_ctx()).missing[0]
    _save(learner_code.FLASK_APP_KEY, _flask(SAFE_RUN))
    result = check(_ctx())
    assert result.passed, result.missing
    assert result.evidence == {
        "host": "127.0.0.1",
        "debugger": False,
        "error_status": 500,
        "debugger_with_FLASK_DEBUG": True,
    }
    assert "Application sûre" in check(_ctx("fr")).detail


def test_flask_probe_reads_behaviour_not_text() -> None:
    # debug switched on by a variable the check never sets, and a route that no longer works
    sneaky = _flask('app.run(debug=os.environ.get("MY_DEBUG", "1") == "1")')
    probe = flask_debug.probe_flask_app(sneaky)
    assert probe.started and probe.debugger and probe.error_leaks and probe.loopback
    broken = _flask(SAFE_RUN).replace('@app.post("/score")', '@app.post("/predict")')
    assert flask_debug.probe_flask_app(broken).score_status == 404
    crashed = flask_debug.probe_flask_app("import flask\nraise SystemExit('no server here')")
    assert not crashed.started and "no server here" in crashed.output


def test_learner_code_never_sees_the_workbench_environment(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql://secret@db/class")
    monkeypatch.setenv("WORKBENCH_API_ADMIN_TOKEN", "s3cret")
    with learner_code.sandbox() as box:
        script = box.write(
            "peek.py",
            "import json, os, resource\nprint(json.dumps([sorted(os.environ), resource.getrlimit(resource.RLIMIT_CPU)]))",
        )
        proc = box.start(["-c", learner_code.LIMITS_PRELUDE + "\nimport runpy; runpy.run_path('peek.py')"])
        out, timed_out = learner_code.run_to_end(proc, 30)
    import json

    names, cpu = json.loads(out)
    assert not timed_out and not any(n.startswith("WORKBENCH_") for n in names) and "HOME" in names
    assert cpu == [learner_code.CPU_SECONDS, learner_code.CPU_SECONDS] and script.name == "peek.py"


def test_class_mode_refuses_to_run_learner_code(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    _save(learner_code.FLASK_APP_KEY, _flask(SAFE_RUN))
    _save(learner_code.STREAMLIT_CLIENT_KEY, GOOD_CLIENT)
    for check in (flask_debug.check_flask_debug, streamlit_client.check_streamlit_client):
        result = check(_ctx())
        assert not result.passed and "does not run your code" in result.missing[0]
        assert "n'exécute pas votre code" in check(_ctx("fr")).missing[0]


# --- the Streamlit client ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "shown"),
    [
        (["Decision Approved", "Probability 83%"], True),
        (["Décision : Approved", "probabilité 0,83"], True),
        (["Approved"], False),  # no probability
        (["Probability 0.83"], False),  # no label
        (["Decision Rejected", "Probability 83%"], False),  # the wrong label
        (["Decision Approved", "Probability 71%"], False),  # another probability
    ],
)
def test_shows_answer(texts, shown) -> None:
    assert streamlit_client.shows_answer(texts, {"label": "Approved", "probability": 0.8302}) is shown


@pytest.fixture
def api(monkeypatch, mlflow_store):
    monkeypatch.setenv("WORKBENCH_API_PORT", str(free_port()))
    get_settings.cache_clear()
    api_client.start(get_settings())
    yield
    api_client.stop(get_settings())


def test_streamlit_client_check_needs_a_running_api(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_API_PORT", str(free_port()))
    get_settings.cache_clear()
    assert "No script saved" in streamlit_client.check_streamlit_client(_ctx()).missing[0]
    _save(learner_code.STREAMLIT_CLIENT_KEY, GOOD_CLIENT)
    result = streamlit_client.check_streamlit_client(_ctx())
    assert not result.passed and "The API does not answer" in result.missing[0]


def test_streamlit_client_check_runs_the_script_against_the_live_api(api) -> None:
    check = streamlit_client.check_streamlit_client
    _save(learner_code.STREAMLIT_CLIENT_KEY, learner_code.STREAMLIT_TEMPLATE)  # the editor as it opens
    result = check(_ctx())
    assert not result.passed and "no request reached the API" in result.missing[0]
    assert result.evidence["requests"] == 0
    # a page that shows a made-up answer, without calling the API
    _save(
        learner_code.STREAMLIT_CLIENT_KEY,
        learner_code.STREAMLIT_TEMPLATE.replace(TODO, '    st.metric("Decision", "Approved 80%")\n'),
    )
    assert "no request reached the API" in check(_ctx()).missing[0]
    # calls the API but ignores the form
    ignores = GOOD_CLIENT.replace(
        "json=application", 'json={**application, "ApplicantIncome": 5000, "Credit_History": 1}'
    )
    _save(learner_code.STREAMLIT_CLIENT_KEY, ignores)
    assert "does not carry the values typed in the form" in check(_ctx()).missing[0]
    # calls the API with the form, but shows something else than its answer
    _save(learner_code.STREAMLIT_CLIENT_KEY, GOOD_CLIENT.replace("f\"{answer['probability']:.0%}\"", '"soon"'))
    assert "does not show the API's answer" in check(_ctx()).missing[0]
    # hard-coded address: the request bypasses API_URL (the check cannot see it reach the API)
    _save(
        learner_code.STREAMLIT_CLIENT_KEY,
        GOOD_CLIENT.replace('os.environ.get("API_URL", "http://127.0.0.1:8000")', '"http://127.0.0.1:9"'),
    )
    assert not check(_ctx()).passed
    _save(learner_code.STREAMLIT_CLIENT_KEY, GOOD_CLIENT)
    result = check(_ctx())
    assert result.passed, result.missing
    assert result.evidence["requests"] == len(streamlit_client.CASES)
    assert "Votre client fonctionne" in check(_ctx("fr")).detail


def test_a_script_that_loops_forever_is_stopped(monkeypatch) -> None:
    monkeypatch.setattr(streamlit_client, "TIMEOUT", 8.0)
    run = streamlit_client.run_client("while True:\n    pass\n", "http://127.0.0.1:9")
    assert run.timed_out and streamlit_client.judge_client(run, "en")[0].startswith("Your script did not finish")
