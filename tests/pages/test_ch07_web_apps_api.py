"""AppTest of chapter VII against a live API process started from the page."""

from __future__ import annotations

import os

import pytest
from workbench.core import api_client
from workbench.core.settings import get_settings
from workbench.ui.chapters.ch07_web_apps_api import SentBatch

from tests.conftest import REPO_ROOT, free_port
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
    assert any(c.value.startswith("Served **compiled**") for c in at.caption)  # /model's serving path

    at.selectbox(key="ch07_form_Credit_History").set_value(0).run()
    at.button(key="ch07_send").click().run()
    assert_no_exception(at)
    assert "Loan **rejected**" in _texts(at.warning)
    at.button(key="ch07_get_prediction_check").click().run()
    assert "Prediction obtained from the running API: Rejected" in _texts(at.success)

    at.slider(key="ch07_sample_rows").set_value(50).run()
    at.button(key="ch07_send_batch").click().run()
    assert "50 predictions in" in _texts(at.success)
    from workbench.chapters.capstone import BATCH_KEY  # the capstone's batch criterion reads this record
    from workbench.core.records import records_for

    kept = records_for(get_settings(), get_settings().learner).get_json(BATCH_KEY)
    assert kept["count"] == 50 and kept["model_version"] == "fallback"

    at.selectbox(key="ch07_case").set_value("case_negative").run()
    at.button(key="ch07_send_invalid").click().run()
    table = (
        at.dataframe(key="ch07_errors_table") if False else [d for d in at.dataframe if "Field" in d.value.columns][0]
    )
    assert list(table.value["Field"]) == ["ApplicantIncome"]
    at.text_input(key="ch07_field_answer").input("ApplicantIncome").run()
    at.button(key="ch07_save_field").click().run()
    at.button(key="ch07_read_422_check").click().run()
    assert "Well read" in _texts(at.success)

    at.select_slider(key="ch07_n_requests").set_value(200).run()
    at.select_slider(key="ch07_concurrency").set_value(2).run()
    at.button(key="ch07_run_load").click().run()
    assert_no_exception(at)
    p95 = next(m.value for m in at.metric if m.label == "p95 (ms)")
    assert next(m.value for m in at.metric if m.label == "Failures") == "0"
    at.text_input(key="ch07_p95_answer").input(p95).run()
    at.button(key="ch07_save_p95").click().run()
    at.button(key="ch07_find_p95_check").click().run()
    assert "95 % of requests" in _texts(at.success)

    at.select_slider(key="ch07_compare_rows").set_value(100).run()
    at.button(key="ch07_compare").click().run()
    assert "the batch is" in _texts(at.info)

    at.button(key="ch07_stop").click().run()
    assert "The API is stopped" in _texts(at.info)
    assert not api_client.status().healthy


def test_hostile_inputs_read_clearly_on_the_page(api_port) -> None:
    """NaN in the errors tab: one 422 naming the field; a failed CSV upload shows the file that was sent."""
    at = open_app("fr", "07_web_apps_api", timeout=180)
    at.button(key="ch07_start").click().run()
    assert_no_exception(at)
    for case, field in (("case_nonfinite", "ApplicantIncome"), ("case_infinite", "LoanAmount")):
        at.selectbox(key="ch07_case").set_value(case).run()
        assert "NaN" in at.text_area(key=f"ch07_payload_{case}").value or case == "case_infinite"
        at.button(key="ch07_send_invalid").click().run()
        assert_no_exception(at)
        assert not at.error and "Pas d'erreur 422" not in _texts(at.info)
        table = [d for d in at.dataframe if "Champ" in d.value.columns][0].value
        assert list(table["Champ"]) == [field] and "finite" in table["Message de l'API"].iloc[0]
    assert "Requête (JSON envoyé)" in _texts(at.caption)

    header = "Loan_ID;Gender;Married;Dependents;Education;Self_Employed;ApplicantIncome;CoapplicantIncome;LoanAmount"
    content = f"{header}\nLP1;Male;Yes;0;Graduate;No;5849;0;128,5\n".encode()
    at.session_state["ch07_batch"] = SentBatch(api_client.predict_csv(content, "demandes.csv"), content)
    at.run()
    assert_no_exception(at)
    assert "Requête (fichier envoyé : début du CSV)" in _texts(at.caption)
    shown = "\n".join(c.value for c in at.code)
    assert "demandes.csv" in shown and "multipart/form-data" in shown and "LP1;Male" in shown
    errors = [d for d in at.dataframe if "Champ" in d.value.columns][0].value
    assert set(errors["Champ"]) == {"Loan_Amount_Term", "Credit_History", "Property_Area"}  # ';' was understood


def test_a_french_excel_file_is_scored_and_its_download_is_safe(api_port) -> None:
    at = open_app("en", "07_web_apps_api", timeout=180)
    at.button(key="ch07_start").click().run()
    csv = (REPO_ROOT / "data" / "loan.csv").read_text().splitlines()[:4]
    french = [line.replace(",", ";") for line in csv]
    french[1] = '=HYPERLINK("http://evil")' + french[1][french[1].index(";") :]
    content = "\n".join(french).encode("utf-8-sig")
    at.session_state["ch07_batch"] = SentBatch(api_client.predict_csv(content, "excel.csv"), content)
    at.run()
    assert_no_exception(at)
    assert "3 predictions in" in _texts(at.success)
    assert "separator" in _texts(at.info) and "formulas" in _texts(at.caption)
    table = next(d.value for d in at.dataframe if "Approval probability" in d.value.columns)
    assert table["Loan_ID"].iloc[0].startswith("=HYPERLINK")  # shown as sent...
    import io

    import pandas as pd
    from workbench.core.csv_tables import to_csv_bytes

    downloaded = pd.read_csv(io.BytesIO(to_csv_bytes(table)))
    assert downloaded["Loan_ID"].iloc[0] == '\'=HYPERLINK("http://evil")'  # ...downloaded escaped


def test_the_server_tab_says_which_model_was_refused_and_why(api_port, tmp_path) -> None:
    import time

    import requests
    from workbench.core import tracking

    from tests.api.conftest import log_learner_model, log_pickle_model

    good, _ = log_learner_model()
    tracking.set_alias("production", int(good), "teacher")
    at = open_app("fr", "07_web_apps_api", timeout=180)
    at.button(key="ch07_start").click().run()
    marker = tmp_path / "payload-ran"
    bad = log_pickle_model(marker)
    tracking.set_alias("production", int(bad), "attacker")
    url = api_client.api_url(get_settings())
    deadline = time.monotonic() + 60
    while requests.get(f"{url}/health", timeout=5).json()["status"] != "degraded" and time.monotonic() < deadline:
        time.sleep(0.5)
    at.button(key="ch07_refresh").click().run()
    assert_no_exception(at)
    assert any(m.label == "Version" and m.value == good for m in at.metric)
    error = _texts(at.error)
    assert f"L'API a refusé la version {bad} de `@production`" in error
    assert "sérialisé en cloudpickle, un format qui exécute du code au chargement" in error
    assert not marker.exists()


def test_in_french_the_served_model_the_413_and_a_taken_port_are_explained_in_french(api_port, monkeypatch) -> None:
    """The fallback caption, the metric labels, the 413 and the port-in-use error were English in the French UI."""
    import socket

    monkeypatch.setenv("WORKBENCH_API_MAX_BODY_BYTES", "2000")
    get_settings.cache_clear()
    at = open_app("fr", "07_web_apps_api", timeout=180)
    at.button(key="ch07_start").click().run()
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Version"] == "secours" and metrics["Origine"] == "modèle de secours entraîné au démarrage"
    assert "," in metrics["F1"] and "." not in metrics["F1"]  # 0,7xx
    assert "Aucune version ne porte encore l'alias « production »" in "\n".join(c.value for c in at.caption)
    assert any(c.value.startswith("Servi **compilé**") for c in at.caption)

    big = ("Loan_ID,Gender\n" + "LP001002,Male\n" * 400).encode()
    at.file_uploader(key="ch07_upload").set_value(("big.csv", big, "text/csv")).run()
    at.button(key="ch07_send_batch").click().run()
    assert_no_exception(at)
    assert "Requête trop volumineuse (413) : l'API refuse tout corps de plus de 2\u202f000 octets" in _texts(at.error)

    api_client.stop(get_settings())
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the API's port may be in TIME_WAIT
        taken.bind(("127.0.0.1", api_port))
        taken.listen()
        at.run()
        at.button(key="ch07_start").click().run()
    assert f"le port {api_port} de 127.0.0.1 est déjà occupé" in _texts(at.error)


def test_class_mode_uses_the_shared_api_and_never_starts_one(api_port, monkeypatch) -> None:
    """In class mode the page shows the class's API and the learner's own routes; no start/stop buttons, and
    starting an API from the app is refused (thirty learners would fight over one port)."""
    from workbench.core import services

    from tests.pages.conftest import open_class_app

    api_client.start(get_settings(), env={"WORKBENCH_MODE": "class"})  # the class's API (run by the teacher)
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    with pytest.raises(services.ServiceError) as refused:
        api_client.start(get_settings())
    assert "partagée" in refused.value.message("fr")

    def server_page(lang: str):
        at = open_class_app(lang, "Ana", "07_web_apps_api")
        assert_no_exception(at)
        assert not [b for b in at.button if b.key in ("ch07_start", "ch07_stop")]
        return at

    at = server_page("en")
    texts = _texts(at.markdown)
    assert "/learners/Ana/predict" in texts and get_settings().learner_model_name("Ana") in texts
    assert "/learners/Ana/predict" in _texts(server_page("fr").markdown)
    monkeypatch.setenv("WORKBENCH_MODE", "solo")
    get_settings.cache_clear()
    api_client.stop(get_settings())
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    assert "tell your teacher" in _texts(server_page("en").warning)


def test_class_mode_a_learner_sees_their_own_token_and_loads_their_own_route(api_port, monkeypatch) -> None:
    """Ana's server tab reveals Ana's API token (never Bob's) with a curl on her route that works from a shell;
    her load test and her single-vs-batch comparison go to her own route (her model), not the class-wide one."""
    import subprocess

    from workbench.api.learners import learner_token

    from tests.api.test_learners import register
    from tests.pages.conftest import class_join_token, open_class_app

    secret = "class-secret-for-the-test"
    monkeypatch.setenv("WORKBENCH_API_ADMIN_TOKEN", secret)
    get_settings.cache_clear()
    register("Ana", "logistic_regression")
    api_client.start(get_settings(), env={"WORKBENCH_MODE": "class"})  # the class's API (run by the teacher)
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    class_join_token("Bob")
    at = open_class_app("en", "Ana", "07_web_apps_api", timeout=180)
    assert_no_exception(at)
    assert any(e.label.startswith("Your personal API token") for e in at.expander)
    shown = "\n".join(c.value for c in at.code) + _texts(at.markdown)
    ana, bob = learner_token(secret, "Ana"), learner_token(secret, "Bob")
    assert ana in shown and bob not in shown and secret not in shown
    curl = next(c.value for c in at.code if c.value.startswith("curl") and "/learners/Ana/predict" in c.value)
    answer = subprocess.run(["bash", "-c", curl + " -w '\\n%{http_code}'"], capture_output=True, text=True, timeout=60)
    assert answer.stdout.rstrip().endswith("200") and '"probability"' in answer.stdout
    on_bob = curl.replace("/learners/Ana/", "/learners/Bob/") + " -o /dev/null -w '%{http_code}'"
    assert subprocess.run(["bash", "-c", on_bob], capture_output=True, text=True, timeout=60).stdout == "401"
    # the predict tab's snippets also use her route, with her token read from the shell's API_TOKEN variable
    snippet = next(c.value for c in at.code if c.value.startswith("curl") and "$API_TOKEN" in c.value)
    assert "/learners/Ana/predict" in snippet
    shell = subprocess.run(
        ["bash", "-c", snippet + " -o /dev/null -w '%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "API_TOKEN": ana},
    )
    assert shell.stdout == "200"

    def ana_inputs() -> int:
        return api_client.call("GET", "/recent_inputs", learner="Ana").body["count"]

    before = ana_inputs()
    at.select_slider(key="ch07_n_requests").set_value(100).run()
    at.select_slider(key="ch07_concurrency").set_value(2).run()
    at.button(key="ch07_run_load").click().run()
    assert_no_exception(at)
    assert next(m.value for m in at.metric if m.label == "Failures") == "0"
    assert ana_inputs() == before + 100  # her model answered the load test
    at.select_slider(key="ch07_compare_rows").set_value(100).run()
    at.button(key="ch07_compare").click().run()
    assert "the batch is" in _texts(at.info)
    assert ana_inputs() == before + 300  # 100 one by one + one batch of 100, on her route
    french = open_class_app("fr", "Ana", "07_web_apps_api")  # a new link for Ana (the previous one is revoked)
    assert any(e.label.startswith("Votre jeton d'API personnel") for e in french.expander)
    monkeypatch.setenv("WORKBENCH_MODE", "solo")
    get_settings.cache_clear()


def test_clients_tab_saves_the_learners_flask_app_and_its_check_runs_it() -> None:
    from workbench.chapters.ch07_web_apps_api import learner_code

    at = open_app("fr", "07_web_apps_api", timeout=180)
    assert_no_exception(at)
    assert 'app.run(host="0.0.0.0", port=5000, debug=True)' in at.text_area(key="ch07_flask_code").value
    assert "TODO" in at.text_area(key="ch07_client_code").value
    at.button(key="ch07_flask_save").click().run()  # the course's file, as it opens
    at.button(key="ch07_flask_debug_safe_check").click().run()
    assert_no_exception(at)
    texts = "\n".join(m.value for m in at.markdown)
    assert "Le serveur écoute sur `0.0.0.0`" in texts and "débogueur de Werkzeug" in texts
    fixed = "import os\n" + learner_code.FLASK_TEMPLATE.replace(
        'app.run(host="0.0.0.0", port=5000, debug=True)', 'app.run(host=os.environ.get("HOST", "127.0.0.1"))'
    )
    at.text_area(key="ch07_flask_code").input(fixed).run()
    at.button(key="ch07_flask_save").click().run()
    assert "Enregistré" in _texts(at.success)
    at.button(key="ch07_flask_debug_safe_check").click().run()
    assert_no_exception(at)
    assert "Application sûre : lancée telle quelle, elle écoute sur 127.0.0.1" in _texts(at.success)
    at.button(key="ch07_flask_reset").click().run()  # the editor shows the original again
    assert "debug=True" in at.text_area(key="ch07_flask_code").value
