"""Chapter VII records and checks, and the API client helpers (no server needed here)."""

from __future__ import annotations

import pytest
from workbench.chapters.ch07_web_apps_api import lab as api_lab
from workbench.core import api_client
from workbench.core.api_client import CallResult
from workbench.core.exercises import CheckContext
from workbench.core.records import records_for
from workbench.core.settings import get_settings


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


def _prediction() -> CallResult:
    body = {"prediction": "Y", "label": "Approved", "probability": 0.8, "model_version": "3", "Loan_ID": None}
    return CallResult("POST", "http://x/predict", 200, body, 2.0, {})


def _invalid() -> CallResult:
    body = {
        "detail": [
            {
                "loc": ["body", "Gender"],
                "type": "literal_error",
                "msg": "Input should be 'Male' or 'Female'",
                "input": "M",
            }
        ]
    }
    return CallResult("POST", "http://x/predict", 422, body, 2.0, {})


def test_prediction_check_needs_a_call_and_a_running_api(monkeypatch) -> None:
    assert "No successful prediction" in api_lab.check_prediction(_ctx()).missing[0]
    api_lab.record_call(get_settings(), "ana", _prediction())
    monkeypatch.setattr(
        api_client, "status", lambda settings=None: api_client.services.ServiceStatus("a", False, False)
    )
    assert "no longer answers" in api_lab.check_prediction(_ctx()).missing[0]
    monkeypatch.setattr(api_client, "status", lambda settings=None: api_client.services.ServiceStatus("a", True, True))
    result = api_lab.check_prediction(_ctx("fr"))
    assert result.passed and "Approved" in result.detail and "version 3" in result.detail


def test_read_422_check() -> None:
    assert "No 422" in api_lab.check_read_422(_ctx()).missing[0]
    api_lab.record_call(get_settings(), "ana", _invalid())
    assert "now answer" in api_lab.check_read_422(_ctx()).missing[0]
    api_lab.record_field_answer(get_settings(), "ana", "ApplicantIncome")
    assert "pointed at Gender" in api_lab.check_read_422(_ctx()).missing[0]
    api_lab.record_field_answer(get_settings(), "ana", " gender ")
    assert api_lab.check_read_422(_ctx()).passed
    api_lab.record_call(get_settings(), "ana", _invalid())  # a new 422 asks for a new reading
    assert not api_lab.check_read_422(_ctx()).passed


def test_p95_check_tolerance() -> None:
    assert "No load test" in api_lab.check_p95(_ctx()).missing[0]
    api_lab.record_load_test(get_settings(), "ana", 1.0, 4.0, 9.0, 800.0)
    assert "Enter the p95" in api_lab.check_p95(_ctx()).missing[0]
    api_lab.record_p95_answer(get_settings(), "ana", 9.0)
    assert not api_lab.check_p95(_ctx()).passed
    api_lab.record_p95_answer(get_settings(), "ana", 4.3)
    assert api_lab.check_p95(_ctx()).passed


def test_record_survives_corruption() -> None:
    records_for(get_settings(), "ana").put_text(api_lab.RECORD_KEY, "[1, 2")
    assert api_lab.load_record(get_settings(), "ana") == {}


def test_every_invalid_case_is_rejected_by_the_schema() -> None:
    from pydantic import ValidationError
    from workbench.api.schemas import LoanApplication

    for payload in api_lab.INVALID_CASES.values():
        with pytest.raises(ValidationError):
            LoanApplication(**payload)
    LoanApplication(**api_client.EXAMPLE_APPLICATION)


def test_validation_errors_flattening() -> None:
    rows = api_client.validation_errors(_invalid())
    assert rows == [
        {"field": "Gender", "type": "literal_error", "message": "Input should be 'Male' or 'Female'", "input": '"M"'}
    ]
    assert api_client.validation_errors(_prediction()) == []


def test_client_code_snippets() -> None:
    curl = api_client.curl_command("http://127.0.0.1:8000/predict", {"a": "é"})
    assert curl.startswith("curl -s -X POST http://127.0.0.1:8000/predict") and "é" in curl
    code = api_client.requests_code("http://h/predict", {"a": 1})
    compile(code, "snippet", "exec")
    assert 'requests.post("http://h/predict", json=application' in code


def test_call_failure_is_a_result_not_an_exception(monkeypatch) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("WORKBENCH_API_PORT", str(free_port()))
    get_settings.cache_clear()
    result = api_client.predict(api_client.EXAMPLE_APPLICATION)
    assert result.status_code is None and result.error and not result.ok
    assert not api_client.status().healthy


def test_sample_applications_are_valid() -> None:
    from workbench.api.schemas import LoanApplication

    rows = api_client.sample_applications(50)
    assert len(rows) == 50
    for row in rows:
        LoanApplication(**row)
    assert any(r["Credit_History"] is None for r in api_client.sample_applications(300))


@pytest.fixture
def echo_server():
    """A local HTTP server that records what it receives (headers and body) and answers 200 {}."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()


def test_the_client_sends_non_finite_numbers_as_typed_and_the_admin_token(echo_server, monkeypatch) -> None:
    import dataclasses
    import math

    port, received = echo_server
    settings = dataclasses.replace(get_settings(), api_port=port, api_admin_token="s3cret")
    result = api_client.predict({**api_client.EXAMPLE_APPLICATION, "ApplicantIncome": math.nan}, settings=settings)
    assert result.ok and result.error is None  # requests alone refuses NaN (InvalidJSONError): never sent
    headers, body = received[-1]
    assert b'"ApplicantIncome": NaN' in body and headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer s3cret"
    assert "NaN" in api_client.request_text(result.request)


def test_a_csv_upload_is_described_as_sent(echo_server) -> None:
    import dataclasses

    port, received = echo_server
    settings = dataclasses.replace(get_settings(), api_port=port)
    content = b"Loan_ID;Gender\nLP1;Male\nLP2;Female\n"
    result = api_client.predict_csv(content, "demandes.csv", settings=settings)
    assert result.request == {
        "content_type": "multipart/form-data",
        "field": "file",
        "filename": "demandes.csv",
        "bytes": len(content),
        "lines": 3,
        "first_lines": ["Loan_ID;Gender", "LP1;Male", "LP2;Female"],
    }
    assert b'filename="demandes.csv"' in received[-1][1] and "Authorization" not in received[-1][0]
