"""AppTest of chapter IV, tab by tab: serialization, the example package (real build + tests), environment."""

from __future__ import annotations

import pytest
from workbench.chapters.ch04_packaging import lab as pk
from workbench.core.progress import ProgressStore
from workbench.core.records import records_for
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

PAGE = "04_packaging"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_serialization_formats_then_the_ratio_check() -> None:
    at = open_app("en", PAGE)
    at.selectbox(key="ch04_ser_model").set_value("decision_tree").run()
    at.button(key="ch04_ser_run").click().run()
    assert_no_exception(at)
    table = next(d.value for d in at.dataframe if "Same predictions" in d.value.columns)
    assert list(table["File"]) == [f"model-{f}.{pk.EXTENSIONS[f.split('-')[0]]}" for f in pk.SERIALIZERS]
    assert table["Same predictions"].all()
    assert "All 6 reloaded files give the same decisions and the same probabilities" in _texts(at.success)
    assert "sklearn.tree._tree.Tree" in _texts(at.info)

    folder = pk.serialization_dir(get_settings(), get_settings().learner)
    at.text_input(key="ch04_ratio_answer").input(f"{pk.compression_ratio(folder):.1f}").run()
    at.button(key="ch04_ratio_save").click().run()
    at.button(key="ch04_compression_ratio_check").click().run()
    assert "Right: you answered" in _texts(at.success)

    at.button(key="ch04_reduce_run").click().run()
    assert_no_exception(at)
    assert "pickle ran `print` and displayed: 'This code runs when the file is loaded!'" in _texts(at.warning)
    assert "UntrustedTypesFoundException" in _texts(at.success)


def test_the_ratio_is_typed_the_french_way_and_a_saved_message_never_outlives_its_value() -> None:
    """`75,1` is 75.1 % (Streamlit read 751, refused it in English and left "saved 75.1 %" on screen)."""
    at = open_app("fr", PAGE)
    at.selectbox(key="ch04_ser_model").set_value("decision_tree").run()
    at.button(key="ch04_ser_run").click().run()
    at.text_input(key="ch04_ratio_answer").input("75,1").run()
    at.button(key="ch04_ratio_save").click().run()
    assert_no_exception(at)
    assert "Réponse enregistrée : 75,1 %" in _texts(at.success)
    saved = records_for(get_settings(), get_settings().learner).get_json(pk.RATIO_ANSWER_KEY)
    assert saved["percent"] == pytest.approx(75.1)
    at.text_input(key="ch04_ratio_answer").input("75,1,2").run()
    assert "Réponse enregistrée" not in _texts(at.success) and "« 75,1,2 » n'est pas un nombre" in _texts(at.error)
    assert at.button(key="ch04_ratio_save").disabled
    at.text_input(key="ch04_ratio_answer").input("751").run()
    assert "751 est hors de l'intervalle permis : entre 0 et 200." in _texts(at.error)
    at.segmented_control(key="lang").set_value("en").run()  # the same number, written the English way
    assert at.text_input(key="ch04_ratio_answer").value == "751"
    at.text_input(key="ch04_ratio_answer").input("75,1").run()
    assert '"75,1" is not a number' in _texts(at.error)


def test_build_the_package_run_its_tests_and_pass_the_check() -> None:
    at = open_app("fr", PAGE, timeout=300)
    assert any("[build-system]" in c.value for c in at.code)  # pyproject.toml shown by default
    assert at.button(key="ch04_test").disabled
    at.button(key="ch04_build").click().run()
    assert_no_exception(at)
    assert "**loan_model-0.1.0-py3-none-any.whl** et **loan_model-0.1.0.tar.gz**" in _texts(at.success)
    wheel = next(
        d.value
        for d in at.dataframe
        if "Fichier" in d.value.columns and "loan_model/predict.py" in set(d.value["Fichier"])
    )
    assert "loan_model/trained_models/model.skops" in set(wheel["Fichier"])

    at.button(key="ch04_test").click().run()
    assert_no_exception(at)
    assert "Les 12 tests passent" in _texts(at.success)
    junit = next(d.value for d in at.dataframe if "Résultat" in d.value.columns)
    assert len(junit) == 12 and set(junit["Résultat"]) == {"réussi"}
    at.button(key="ch04_package_tests_pass_check").click().run()
    assert "ses 12 tests passent" in _texts(at.success)
    done = ProgressStore(get_settings().progress_db).completed_items(get_settings().learner)
    assert done["04_packaging"] == {"package-tests-pass"}

    at.text_input(key="ch04_model_path_override").input("/srv/models/model.skops").run()
    at.button(key="ch04_model_path_run").click().run()
    assert any(
        "LOAN_MODEL_PATH=/srv/models/model.skops python -c" in c.value and c.value.endswith("/srv/models/model.skops")
        for c in at.code
    )


@pytest.mark.usefixtures("isolated_state")
def test_environment_tab_is_read_only_and_hides_secrets(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_API_TOKEN", "very-secret-value")
    at = open_app("en", PAGE)
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Python version"].count(".") == 2 and int(metrics["Installed packages"]) > 50
    requirements = next(d.value for d in at.dataframe if "Status" in d.value.columns)
    assert "pinned, matches" in set(requirements["Status"])
    variables = next(d.value for d in at.dataframe if "Variable" in d.value.columns)
    assert "WORKBENCH_STATE_DIR" in set(variables["Variable"])
    assert "very-secret-value" not in variables.to_string()
    assert variables.set_index("Variable").loc["WORKBENCH_API_TOKEN", "Value"] == pk.HIDDEN
    at.text_area(key="ch04_requirements").input("pandas==0.1\nnot-installed-pkg>=1\n").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["pinned, another version installed"] == "1" and metrics["missing"] == "1"
    at.button(key="ch04_model_path_run").click().run()
    assert "The package is not installed in your folder yet" in _texts(at.warning)
