"""TestClient tests of every endpoint and error path of the prediction API."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import ROW, api_settings
from tests.conftest import REPO_ROOT


def _metrics(client) -> dict[str, list]:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return {f.name: f.samples for f in families}


def test_health_and_model_info_of_the_fallback(client) -> None:
    assert client.get("/health").json() == {
        "status": "ok",
        "model_loaded": True,
        "model_version": "fallback",
        "model_source": "fallback",
        "problems": [],
    }
    info = client.get("/model").json()
    assert info["refused"] is None and info["problems"] == []
    assert info["source"] == "fallback" and info["version"] == "fallback" and info["alias"] is None
    assert "trained at start-up" in info["source_detail"]
    assert info["fast_path"] is True
    assert 0.5 < info["metrics"]["accuracy"] <= 1
    assert set(info["input_schema"]["properties"]) >= {"Gender", "ApplicantIncome", "Property_Area"}


def test_predict_answers_every_field(client) -> None:
    answer = client.post("/predict", json={**ROW, "Loan_ID": "LP001002"}).json()
    assert answer["prediction"] in ("Y", "N")
    assert answer["label"] == {"Y": "Approved", "N": "Rejected"}[answer["prediction"]]
    assert 0 <= answer["probability"] <= 1
    assert answer["model_version"] == "fallback" and answer["Loan_ID"] == "LP001002"
    assert answer["model_source"] == "fallback"


def test_predict_matches_the_pipeline(client) -> None:
    import pandas as pd

    manager = client.app.state.manager
    expected = manager.model.pipeline.predict_proba(pd.DataFrame([ROW]))[0, 1]
    assert client.post("/predict", json=ROW).json()["probability"] == pytest.approx(expected, abs=1e-6)


def test_credit_history_drives_the_answer(client) -> None:
    good = client.post("/predict", json=ROW).json()
    bad = client.post("/predict", json={**ROW, "Credit_History": 0}).json()
    assert bad["probability"] < good["probability"] - 0.3


@pytest.mark.parametrize(
    "nulls",
    [["Gender"], ["Married", "Dependents", "Self_Employed"], ["LoanAmount", "Loan_Amount_Term", "Credit_History"]],
)
def test_missing_values_are_accepted_where_the_data_has_them(client, nulls) -> None:
    body = {**ROW, **{n: None for n in nulls}}
    assert client.post("/predict", json=body).status_code == 200
    omitted = {k: v for k, v in ROW.items() if k not in nulls}
    assert client.post("/predict", json=omitted).status_code == 200


@pytest.mark.parametrize(
    "change, field, error_type",
    [
        ({"Gender": "M"}, "Gender", "literal_error"),
        ({"ApplicantIncome": -1}, "ApplicantIncome", "greater_than_equal"),
        ({"ApplicantIncome": "five thousand"}, "ApplicantIncome", "float_parsing"),
        ({"LoanAmount": 0}, "LoanAmount", "greater_than"),
        ({"Loan_Amount_Term": 10_000}, "Loan_Amount_Term", "less_than_equal"),
        ({"Credit_History": 2}, "Credit_History", "literal_error"),
        ({"Dependents": "4"}, "Dependents", "literal_error"),
        ({"Property_Area": None}, "Property_Area", "literal_error"),
        ({"Education": None}, "Education", "literal_error"),
        ({"Score": 3}, "Score", "extra_forbidden"),
    ],
)
def test_field_level_422(client, change, field, error_type) -> None:
    response = client.post("/predict", json={**ROW, **change})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [(e["loc"][-1], e["type"]) for e in errors] == [(field, error_type)]


def test_missing_required_field(client) -> None:
    body = {k: v for k, v in ROW.items() if k != "ApplicantIncome"}
    errors = client.post("/predict", json=body).json()["detail"]
    assert errors[0]["loc"] == ["body", "ApplicantIncome"] and errors[0]["type"] == "missing"


@pytest.mark.parametrize("value, expected", [(0, "0"), (3, "3+"), (2.0, "2"), ("3+", "3+")])
def test_dependents_accepts_numbers(client, value, expected) -> None:
    from workbench.api.schemas import LoanApplication

    assert LoanApplication(**{**ROW, "Dependents": value}).Dependents == expected
    assert client.post("/predict", json={**ROW, "Dependents": value}).status_code == 200


def test_predict_status_is_the_course_format(client) -> None:
    assert client.post("/predict_status", json=ROW).json() == {"status": "Approved"}
    assert client.post(
        "/predict_status", json={**ROW, "Credit_History": 0, "ApplicantIncome": 150, "LoanAmount": 700}
    ).json() == {"status": "Rejected"}


def test_batch_json(client) -> None:
    rows = [ROW, {**ROW, "Credit_History": 0}, {**ROW, "Gender": None, "Loan_ID": "x"}]
    body = client.post("/predict/batch", json=rows).json()
    assert body["count"] == 3 and body["model_version"] == "fallback"
    assert [p["Loan_ID"] for p in body["predictions"]] == [None, None, "x"]
    single = [client.post("/predict", json=r).json()["probability"] for r in rows]
    assert [p["probability"] for p in body["predictions"]] == pytest.approx(single)


def test_batch_json_errors_point_at_the_row(client) -> None:
    response = client.post("/predict/batch", json=[ROW, {**ROW, "Gender": "X"}])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "Gender"]
    assert client.post("/predict/batch", json=[]).status_code == 422
    assert client.post("/predict/batch", json={"rows": [ROW]}).status_code == 422
    assert (
        client.post("/predict/batch", content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 422
    )
    broken = client.post("/predict/batch", content=b"[M\xd0y", headers={"content-type": "application/json"})
    assert broken.status_code == 422  # invalid UTF-8 in the error's input must not crash the error handler


def test_batch_size_cap(client) -> None:
    response = client.post("/predict/batch", json=[ROW] * 1001)
    assert response.status_code == 422
    assert "at most 1000" in response.json()["detail"][0]["msg"]


def test_batch_csv_upload_of_the_course_files(client) -> None:
    csv = (REPO_ROOT / "data" / "loan.csv").read_bytes()
    response = client.post("/predict/batch", files={"file": ("loan.csv", csv, "text/csv")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 614 and body["predictions"][0]["Loan_ID"] == "LP001002"
    as_text = client.post(
        "/predict/batch",
        content=csv.splitlines()[0] + b"\n" + csv.splitlines()[1],
        headers={"content-type": "text/csv"},
    )
    assert as_text.json()["count"] == 1
    original = REPO_ROOT.parent / "shared" / "datasets" / "loan-course" / "test.csv"
    if original.exists():
        answer = client.post("/predict/batch", files={"file": ("test.csv", original.read_bytes(), "text/csv")})
        assert answer.status_code == 200 and answer.json()["count"] == 362


@pytest.mark.parametrize(
    "content, message",
    [
        (b"a,b\n1,2\n", "none of the expected columns"),
        (b"Gender,Married\nMale,Yes\n", "column missing"),
        (b"\xff\xfe\x00", "UTF-8"),
        (
            b"Loan_ID,Gender,Married,Dependents,Education,Self_Employed,ApplicantIncome,CoapplicantIncome,LoanAmount,"
            b"Loan_Amount_Term,Credit_History,Property_Area\nLP1,Male,Yes,0,Graduate,No,100,0,10,360,1,Moon\n",
            "'Urban', 'Semiurban' or 'Rural'",
        ),
    ],
)
def test_batch_csv_errors(client, content, message) -> None:
    response = client.post("/predict/batch", files={"file": ("x.csv", content, "text/csv")})
    assert response.status_code == 422
    assert message in str(response.json()["detail"])


def test_batch_csv_error_names_the_line(client) -> None:
    csv = (REPO_ROOT / "data" / "loan.csv").read_text().splitlines()[:4]
    csv[3] = csv[3].replace("Graduate", "PhD", 1) if "Graduate" in csv[3] else csv[3]
    response = client.post("/predict/batch", files={"file": ("x.csv", "\n".join(csv), "text/csv")})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "line 4"]


def test_batch_rejects_other_content_types_and_pickles(client) -> None:
    import pickle

    response = client.post(
        "/predict/batch", content=pickle.dumps([ROW]), headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 415
    response = client.post("/predict/batch", files={"file": ("x.pkl", pickle.dumps([ROW]), "application/octet-stream")})
    assert response.status_code == 422


def test_body_size_cap() -> None:
    from fastapi.testclient import TestClient
    from workbench.api import create_app

    with TestClient(create_app(api_settings(api_max_body_bytes=2_000))) as small:
        response = small.post("/predict/batch", json=[ROW] * 20)
        assert response.status_code == 413
        assert "larger than 2000 bytes" in response.json()["detail"]
        assert small.post("/predict", json=ROW).status_code == 200


def test_rate_limit_with_retry_after() -> None:
    from fastapi.testclient import TestClient
    from workbench.api import create_app

    with TestClient(create_app(api_settings(api_rate_limit=1.0, api_rate_burst=3))) as limited:
        codes = [limited.post("/predict", json=ROW).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        refused = limited.post("/predict_status", json=ROW)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert limited.get("/health").status_code == 200  # operations are not limited
        samples = {f.name: f.samples for f in text_string_to_metric_families(limited.get("/metrics").text)}
        assert samples["workbench_api_rate_limited"][0].value == 3


def test_rate_limiter_refills() -> None:
    from workbench.api.limits import RateLimiter

    limiter = RateLimiter(rate=2.0, burst=2)
    assert limiter.acquire("a", now=0.0) == 0 and limiter.acquire("a", now=0.0) == 0
    assert limiter.acquire("a", now=0.0) == pytest.approx(0.5)
    assert limiter.acquire("b", now=0.0) == 0  # per client
    assert limiter.acquire("a", now=0.6) == 0
    assert not RateLimiter(0, 5).enabled


def test_cors_allows_only_the_app_origin(client) -> None:
    allowed = client.options(
        "/predict", headers={"Origin": "http://localhost:8501", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:8501"
    other = client.options(
        "/predict", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_metrics_count_requests_predictions_and_recent_inputs(client) -> None:
    client.post("/predict", json=ROW)
    client.post("/predict", json={**ROW, "Credit_History": 0, "ApplicantIncome": 150, "LoanAmount": 700})
    client.post("/predict", json={**ROW, "Gender": "nope"})
    client.get("/no-such-page")
    samples = _metrics(client)
    requests = {
        (s.labels["endpoint"], s.labels["status"]): s.value
        for s in samples["workbench_api_requests"]
        if s.name.endswith("_total")
    }
    assert requests[("/predict", "200")] == 2 and requests[("/predict", "422")] == 1
    assert requests[("other", "404")] == 1
    predictions = {
        s.labels["label"]: s.value for s in samples["workbench_api_predictions"] if s.name.endswith("_total")
    }
    assert predictions == {"Approved": 1, "Rejected": 1}
    buckets = [s for s in samples["workbench_api_request_duration_seconds"] if s.name.endswith("_count")]
    assert any(s.labels["endpoint"] == "/predict" and s.value == 3 for s in buckets)
    info = samples["workbench_api_model_info"][0]
    assert info.labels == {"name": "loan-approval", "version": "fallback", "alias": "", "source": "fallback"}
    assert samples["workbench_api_recent_inputs"][0].value == 2
    means = {s.labels["feature"]: s.value for s in samples["workbench_api_recent_input_mean"]}
    assert means["ApplicantIncome"] == pytest.approx((5849 + 150) / 2)
    shares = {(s.labels["feature"], s.labels["value"]): s.value for s in samples["workbench_api_recent_input_share"]}
    assert shares[("Property_Area", "Urban")] == 1.0
    recent = client.get("/recent_inputs", params={"limit": 1}).json()
    assert recent["count"] == 1 and recent["inputs"][0]["ApplicantIncome"] == 150


def test_recent_inputs_window_is_bounded() -> None:
    from workbench.api.monitoring import RecentInputs

    window = RecentInputs(size=5)
    window.add([{"i": i} for i in range(12)])
    assert [r["i"] for r in window.snapshot()] == [7, 8, 9, 10, 11]
    assert [r["i"] for r in window.snapshot(2)] == [10, 11]


def test_openapi_docs(client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/predict/batch", "/predict_status", "/health", "/model", "/metrics", "/reload"} <= set(
        schema["paths"]
    )
    content = schema["paths"]["/predict/batch"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "text/csv"} <= set(content)
    assert client.get("/docs").status_code == 200 and client.get("/redoc").status_code == 200


# --- hostile input: non-finite numbers, NUL bytes, control characters, French CSV --------------------------

NUMBER_FIELDS = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term")
NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999")


def _raw_json(row: dict, field: str, token: str) -> bytes:
    """`row` as JSON text with `field` written as the literal `token` (what json.dumps refuses to write)."""
    import json

    return json.dumps({**row, field: "__TOKEN__"}).replace('"__TOKEN__"', token).encode()


@pytest.mark.parametrize("path", ["/predict", "/predict_status"])
@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("token", NON_FINITE)
def test_non_finite_numbers_are_a_422_naming_the_field(client, path, field, token) -> None:
    response = client.post(path, content=_raw_json(ROW, field, token), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"] for e in errors] == [["body", field]]
    assert errors[0]["input"] in ("NaN", "Infinity", "-Infinity")


@pytest.mark.parametrize("token", NON_FINITE)
def test_non_finite_numbers_in_a_json_batch(client, token) -> None:
    import json

    body = "[" + json.dumps(ROW) + "," + _raw_json(ROW, "LoanAmount", token).decode() + "]"
    response = client.post("/predict/batch", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", 1, "LoanAmount"]]


HEADER = "Loan_ID,Gender,Married,Dependents,Education,Self_Employed,ApplicantIncome,CoapplicantIncome,LoanAmount,"
HEADER += "Loan_Amount_Term,Credit_History,Property_Area"
GOOD_LINE = "LP1,Male,Yes,0,Graduate,No,5849,0,128,360,1,Urban"


@pytest.mark.parametrize("value", ["inf", "Infinity", "-inf", "1e999"])
def test_non_finite_numbers_in_a_csv_upload(client, value) -> None:
    bad = GOOD_LINE.replace(",128,", f",{value},")
    csv = f"{HEADER}\n{GOOD_LINE}\n{bad}\n".encode()
    response = client.post("/predict/batch", files={"file": ("x.csv", csv, "text/csv")})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "line 3", "LoanAmount"]]


def test_nan_text_in_a_csv_is_a_missing_value(client) -> None:
    """pandas' convention: "NaN" in a CSV cell is an empty cell. Where a value is required, that is a 422."""
    optional = f"{HEADER}\n{GOOD_LINE.replace(',128,', ',NaN,')}\n".encode()
    assert client.post("/predict/batch", files={"file": ("x.csv", optional, "text/csv")}).status_code == 200
    required = f"{HEADER}\n{GOOD_LINE.replace(',5849,', ',NaN,')}\n".encode()
    response = client.post("/predict/batch", files={"file": ("x.csv", required, "text/csv")})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "line 2", "ApplicantIncome"]


def test_a_nul_byte_in_a_csv_is_a_422_naming_the_line(client) -> None:
    nul_line = GOOD_LINE.replace("LP1", "LP\x002")
    csv = f"{HEADER}\n{GOOD_LINE}\n{nul_line}\n".encode()
    for response in (
        client.post("/predict/batch", files={"file": ("x.csv", csv, "text/csv")}),
        client.post("/predict/batch", content=csv, headers={"content-type": "text/csv"}),
    ):
        assert response.status_code == 422, response.text
        assert "line 3" in response.json()["detail"][0]["msg"] and "NUL" in response.json()["detail"][0]["msg"]


def test_control_characters_in_loan_id_are_refused(client) -> None:
    response = client.post("/predict", json={**ROW, "Loan_ID": "LP\u0000001"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "Loan_ID"]


def test_semicolon_csv_from_french_excel_gives_the_same_answers(client) -> None:
    csv = (REPO_ROOT / "data" / "loan.csv").read_text().splitlines()[:30]
    french = [line.replace(",", ";") for line in csv]
    french[1] = french[1].replace(";128;", ";128,0;")  # a decimal comma
    comma = client.post("/predict/batch", files={"file": ("x.csv", "\n".join(csv), "text/csv")}).json()
    response = client.post(
        "/predict/batch", files={"file": ("x.csv", "\n".join(french).encode("utf-8-sig"), "text/csv")}
    )
    assert response.status_code == 200, response.text
    assert [p["probability"] for p in response.json()["predictions"]] == [
        p["probability"] for p in comma["predictions"]
    ]


def test_a_file_with_none_of_the_columns_gets_one_clear_error(client) -> None:
    response = client.post("/predict/batch", files={"file": ("x.csv", b"a|b|c\n1|2|3\n", "text/csv")})
    errors = response.json()["detail"]
    assert response.status_code == 422 and len(errors) == 1
    assert "none of the expected columns" in errors[0]["msg"] and "a|b|c" in errors[0]["msg"]


# --- rate limit: batches cost their rows ------------------------------------------------------------------


def test_a_batch_costs_one_token_per_row() -> None:
    from fastapi.testclient import TestClient
    from workbench.api import create_app

    with TestClient(create_app(api_settings(api_rate_limit=0.01, api_rate_burst=5))) as limited:
        assert limited.post("/predict/batch", json=[ROW] * 3).status_code == 200  # 3 of 5 tokens
        refused = limited.post("/predict/batch", json=[ROW] * 3)  # needs 3, 2 left
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "costs 3 requests" in refused.json()["detail"]
        too_big = limited.post("/predict/batch", json=[ROW] * 6)
        assert too_big.status_code == 422 and "at most 5 applications per batch" in too_big.json()["detail"][0]["msg"]


# --- admin endpoints: /reload and /recent_inputs ----------------------------------------------------------


def _app(**overrides):
    from fastapi.testclient import TestClient
    from workbench.api import create_app

    host = overrides.pop("host", None)
    return TestClient(create_app(api_settings(**overrides), host=host))


def test_reload_needs_the_token_when_one_is_set() -> None:
    with _app(api_admin_token="s3cret") as app:
        assert app.post("/reload").status_code == 401
        assert app.post("/reload", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert app.get("/recent_inputs").status_code == 401
        ok = app.post("/reload", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["version"] == "fallback"
        assert app.get("/recent_inputs", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_admin_endpoints_are_closed_when_reachable_from_other_machines_without_a_token() -> None:
    with _app(host="0.0.0.0") as app:
        response = app.post("/reload")
        assert response.status_code == 403 and "WORKBENCH_API_ADMIN_TOKEN" in response.json()["detail"]
        assert app.get("/recent_inputs").status_code == 403
        assert app.post("/predict", json=ROW).status_code == 200  # predictions stay open
    with _app(host="0.0.0.0", api_admin_token="s3cret") as app:
        assert app.post("/reload", headers={"Authorization": "Bearer s3cret"}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:8501"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Content-Type": "text/plain"},
    ],
)
def test_reload_cannot_be_fired_from_a_web_page(client, headers) -> None:
    response = client.post("/reload", headers=headers)
    assert response.status_code == 403 and "web page" in response.json()["detail"]
    assert client.post("/reload").status_code == 200  # curl, the workbench: no Origin header


def test_reload_is_rate_limited(client) -> None:
    codes = [client.post("/reload").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert int(client.post("/reload").headers["retry-after"]) >= 1


def test_the_non_finite_metrics_of_a_model_do_not_break_model_info(client) -> None:
    import dataclasses

    manager = client.app.state.manager
    manager._set(dataclasses.replace(manager.model, metrics={"f1": float("nan"), "accuracy": 0.8}))
    assert client.get("/model").json()["metrics"] == {"accuracy": 0.8}


def test_a_streamed_body_over_the_cap_is_a_413() -> None:
    """No Content-Length announced (chunked upload): the cap is enforced while the body streams."""
    with _app(api_max_body_bytes=2_000) as small:

        def chunks():
            for _ in range(10):
                yield b"[" + b" " * 500

        response = small.post("/predict/batch", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413 and "larger than 2000 bytes" in response.json()["detail"]


def test_a_model_that_cannot_score_an_input_gets_a_422_not_a_500(client) -> None:
    """A learner's pipeline without an imputer serves complete applications; a null is named, not a 500."""
    import dataclasses

    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from tests.api.conftest import LEARNER_CATEGORICAL, LEARNER_NUMERIC, learner_pipeline

    _, X = learner_pipeline()
    X = X.dropna()
    no_imputer = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("num", "passthrough", LEARNER_NUMERIC),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), LEARNER_CATEGORICAL),
                    ]
                ),
            ),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    ).fit(X, X["Credit_History"] == 1)
    manager = client.app.state.manager
    manager._set(dataclasses.replace(manager.model, pipeline=no_imputer, compiled=None))
    assert client.post("/predict", json=ROW).status_code == 200
    response = client.post("/predict", json={**ROW, "LoanAmount": None})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["type"] == "model_error" and "LoanAmount" in error["msg"]
