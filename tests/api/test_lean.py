"""The lean path (DirectRoutes in front of Starlette's routing, then LeanJsonRoute) answers exactly as FastAPI's
standard route: same status, body bytes and headers, metrics and CORS headers included."""

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
    ("\xed\xa0{", JSON),  # not UTF-8 (found by schemathesis): 400, not a 500
    ("\xed" + json.dumps(ROW), JSON),
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
    assert ours.headers.multi_items() == reference.headers.multi_items()  # every header, in order


ORIGINS = [{"origin": "http://localhost:8501"}, {"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}]


@pytest.mark.parametrize("path", ["/predict", "/predict_status"])
@pytest.mark.parametrize("extra", ORIGINS)
@pytest.mark.parametrize("body", [json.dumps(ROW), json.dumps({**ROW, "Gender": "robot"}), "{"])
def test_web_pages_get_the_same_cors_answers(clients, path: str, extra: dict, body: str) -> None:
    lean, standard = clients
    ours = lean.post(path, content=body.encode(), headers={**JSON, **extra})
    reference = standard.post(path, content=body.encode(), headers={**JSON, **extra})
    assert (ours.status_code, ours.content) == (reference.status_code, reference.content)
    assert ours.headers.multi_items() == reference.headers.multi_items()


def test_metrics_count_the_lean_path_like_the_standard_one() -> None:
    from workbench.api import create_app
    from workbench.api.models import ModelManager

    settings = api_settings()
    manager = ModelManager(settings)
    samples = []
    for lean in (True, False):
        with TestClient(create_app(settings, manager, lean=lean)) as client:
            for body in (json.dumps(ROW), "{", json.dumps({**ROW, "Married": 3})):
                client.post("/predict", content=body.encode(), headers=JSON)
            client.post("/predict_status", content=json.dumps(ROW).encode(), headers=JSON)
            metrics = client.app.state.metrics
            samples.append(
                sorted(
                    (s.name, tuple(sorted(s.labels.items())), s.value)
                    for family in metrics.registry.collect()
                    if family.name in ("workbench_api_requests", "workbench_api_predictions")
                    for s in family.samples
                    if not s.name.endswith("_created")
                )
            )
    assert samples[0] == samples[1]
    assert (
        "workbench_api_requests_total",
        (("endpoint", "/predict"), ("method", "POST"), ("status", "422")),
        2.0,
    ) in samples[0]


def test_direct_routes_answer_valid_bodies_and_pass_refusals_on_unchanged(clients) -> None:
    """A valid body is answered without the router; a refused one reaches the router with its bytes."""
    import asyncio

    from workbench.api.lean import DirectRoutes, LeanJsonRoute
    from workbench.api.routes import predictions

    lean, _ = clients
    routes = [r for r in predictions.router(lean.app.state.api).routes if isinstance(r, LeanJsonRoute)]
    passed_on: list[bytes] = []

    async def router(scope, receive, send) -> None:
        message = await receive()
        passed_on.append(message["body"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    direct = DirectRoutes(router, routes=routes, exception_handlers=lean.app.exception_handlers)

    def call(path: str, body: bytes, method: str = "POST") -> list[dict]:
        sent: list[dict] = []
        chunks = [
            {"type": "http.request", "body": body[:5], "more_body": True},
            {"type": "http.request", "body": body[5:]},
        ]

        async def receive() -> dict:
            return chunks.pop(0) if chunks else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "root_path": "",
            "headers": [(b"content-type", b"application/json")],
        }
        asyncio.run(direct(scope, receive, send))
        return sent

    answer = call("/predict", json.dumps(ROW).encode())
    assert answer[0]["status"] == 200 and json.loads(answer[1]["body"])["prediction"] in ("Y", "N")
    assert passed_on == []
    for path, body, method in (
        ("/predict", b'{"Gender": 1}', "POST"),
        ("/predict/batch", b"[]", "POST"),
        ("/predict", b"{}", "GET"),
    ):
        assert call(path, body, method)[0]["status"] == 299
        assert passed_on.pop() == body[:5]  # the router reads the body from its first chunk again


def test_one_write_per_response() -> None:
    """uvicorn's two writes (head, body) leave in one write at the end of the loop step; close flushes."""
    import asyncio

    from workbench.api.server import OneWritePerResponse

    class Transport:
        def __init__(self) -> None:
            self.writes: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.writes.append(data)

        def is_closing(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

        def get_extra_info(self, name: str) -> str:
            return name

    async def main() -> Transport:
        inner = Transport()
        transport = OneWritePerResponse(inner, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"{}")
        assert inner.writes == []
        await asyncio.sleep(0)
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
        transport.write(b"last")
        transport.close()
        assert inner.writes[-1] == b"last" and inner.closed
        assert transport.get_extra_info("peername") == "peername"
        return inner

    inner = asyncio.run(main())
    assert len(inner.writes) == 2


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
