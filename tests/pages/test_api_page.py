"""AppTest of chapter VII against a live API process started from the page."""

from __future__ import annotations

import pytest
from workbench import api_client
from workbench.settings import get_settings

from tests.conftest import free_port
from tests.pages.conftest import assert_no_exception, open_app

pytestmark = pytest.mark.usefixtures("mlflow_store")


@pytest.fixture
def api_port(monkeypatch) -> int:
    port = free_port()
    monkeypatch.setenv("WORKBENCH_API_PORT", str(port))
    get_settings.cache_clear()
    yield port
    api_client.stop(get_settings())


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def test_page_without_api_explains_how_to_start_it(api_port) -> None:
    at = open_app("fr", "07_web_apps_api")
    assert_no_exception(at)
    assert "L'API est arrêtée" in _texts(at.info)
    at.button(key="ch07_send").click().run()
    assert "L'API ne répond pas" in _texts(at.warning)


def test_full_walkthrough_against_the_live_api(api_port) -> None:
    at = open_app("en", "07_web_apps_api", timeout=180)
    at.button(key="ch07_start").click().run()
    assert_no_exception(at)
    assert f"The API answers at http://127.0.0.1:{api_port}" in _texts(at.success)
    assert any(m.label == "Version" and m.value == "fallback" for m in at.metric)

    at.selectbox(key="ch07_form_Credit_History").set_value(0).run()
    at.button(key="ch07_send").click().run()
    assert_no_exception(at)
    assert "Loan **rejected**" in _texts(at.warning)
    at.button(key="ch07_get_prediction_check").click().run()
    assert "Prediction obtained from the running API: Rejected" in _texts(at.success)

    at.slider(key="ch07_sample_rows").set_value(50).run()
    at.button(key="ch07_send_batch").click().run()
    assert "50 predictions in" in _texts(at.success)

    at.selectbox(key="ch07_case").set_value("case_negative").run()
    at.button(key="ch07_send_invalid").click().run()
    table = (
        at.dataframe(key="ch07_errors_table") if False else [d for d in at.dataframe if "field" in d.value.columns][0]
    )
    assert list(table.value["field"]) == ["ApplicantIncome"]
    at.text_input(key="ch07_field_answer").input("ApplicantIncome").run()
    at.button(key="ch07_save_field").click().run()
    at.button(key="ch07_read_422_check").click().run()
    assert "Well read" in _texts(at.success)

    at.select_slider(key="ch07_n_requests").set_value(200).run()
    at.select_slider(key="ch07_concurrency").set_value(2).run()
    at.button(key="ch07_run_load").click().run()
    assert_no_exception(at)
    p95 = float(next(m.value for m in at.metric if m.label == "p95 (ms)"))
    assert next(m.value for m in at.metric if m.label == "Failures") == "0"
    at.number_input(key="ch07_p95_answer").set_value(p95).run()
    at.button(key="ch07_save_p95").click().run()
    at.button(key="ch07_find_p95_check").click().run()
    assert "95 % of requests" in _texts(at.success)

    at.select_slider(key="ch07_compare_rows").set_value(100).run()
    at.button(key="ch07_compare").click().run()
    assert "the batch is" in _texts(at.info)

    at.button(key="ch07_stop").click().run()
    assert "The API is stopped" in _texts(at.info)
    assert not api_client.status().healthy
