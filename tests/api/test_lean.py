"""LeanJsonRoute answers exactly as FastAPI's standard route: same status, body bytes and headers."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from workbench.api.lean import is_json

from tests.api.conftest import ROW, api_settings

JSON = {"content-type": "application/json"}
CASES = [
    (json.dumps(ROW), JSON),
    (json.dumps({**ROW, "Loan_ID": "LP001", "Dependents": 3, "Credit_History": "1"}), JSON),
    (json.dumps({**ROW, "Gender": None, "LoanAmount": None}), JSON),
    (json.dumps(ROW).replace("5849", "NaN"), JSON),
    (json.dumps(ROW).replace("5849", "Infinity"), JSON),
    (json.dumps(ROW).replace("5849", "1e999"), JSON),
    (json.dumps(ROW).replace("5849", "-5"), JSON),
    (json.dumps(ROW).replace("5849", '"lots"'), JSON),
    (json.dumps(ROW).replace("5849", "true"), JSON),
    (json.dumps(ROW).replace("5849", str(10**40)), JSON),
    (json.dumps({**ROW, "Loan_ID": "a\u0000b"}), JSON),
    (json.dumps({**ROW, "Color": "red"}), JSON),
    (json.dumps({k: v for k, v in ROW.items() if k != "Education"}), JSON),
    (json.dumps([ROW]), JSON),
    ("null", JSON),
    ('"text"', JSON),
    ("", JSON),
    ("{not json", JSON),
    ('{"Gender": "Male",', JSON),
    (json.dumps(ROW), {"content-type": "text/plain"}),
    (json.dumps(ROW), {}),
    (json.dumps(ROW), {"content-type": "application/vnd.loan+json"}),
    (json.dumps(ROW), {"content-type": "Application/JSON; charset=utf-8"}),
    (json.dumps(ROW), {"content-type": "application/json/x"}),
    ("\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), JSON),
]


@pytest.fixture(scope="module")
def clients():
    from workbench.api import create_app
    from workbench.api.models import ModelManager

    settings = api_settings()
    manager = ModelManager(settings)  # one model for both apps: same answers
    with (
        TestClient(create_app(settings, manager)) as lean,
        TestClient(create_app(settings, manager, lean=False)) as standard,
    ):
        yield lean, standard


@pytest.mark.parametrize("path", ["/predict", "/predict_status"])
@pytest.mark.parametrize(("body", "headers"), CASES)
def test_lean_route_answers_like_fastapi(clients, path: str, body: str, headers: dict) -> None:
    lean, standard = clients
    content = body.encode("latin-1") if body.startswith("\xed") else body.encode()
    ours = lean.post(path, content=content, headers=headers)
    reference = standard.post(path, content=content, headers=headers)
    assert ours.status_code == reference.status_code
    assert ours.content == reference.content
    for header in ("content-type", "content-length", "x-model-version", "x-model-source"):
        assert ours.headers.get(header) == reference.headers.get(header), header


def test_both_apps_publish_the_same_openapi(clients) -> None:
    lean, standard = clients
    assert lean.get("/openapi.json").json() == standard.get("/openapi.json").json()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json", True),
        ("application/problem+json; charset=utf-8", True),
        ("APPLICATION/JSON", True),
        ("text/json", False),
        ("application/jsonx", False),
        ("", False),
        (None, False),
    ],
)
def test_is_json_follows_fastapis_rule(value, expected: bool) -> None:
    assert is_json(value) is expected
