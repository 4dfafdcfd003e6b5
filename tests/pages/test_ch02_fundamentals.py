"""AppTest of chapter II, tab by tab: pandas lab, NumPy vs loop, predict the output, git sandbox."""

from __future__ import annotations

import pytest
from workbench.chapters.ch02_fundamentals import git_sandbox as gs
from workbench.chapters.ch02_fundamentals import lab as fu
from workbench.core.data import load_course_data
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

PAGE = "02_fundamentals"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _codes(at) -> str:
    return "\n".join(c.value for c in at.code)


def _frames(at) -> list:
    return [d.value for d in at.dataframe]


def test_pandas_actions_show_result_and_code_then_the_groupby_answer_passes() -> None:
    at = open_app("en", PAGE)
    assert_no_exception(at)
    assert 'result = df.set_index("Loan_ID").loc["LP001002":"LP001014"' in _codes(at)
    assert any(list(f.index) == ["LP001002", "LP001005", "LP001008", "LP001011", "LP001014"] for f in _frames(at))

    at.segmented_control(key="ch02_pandas_action").set_value("groupby").run()
    assert_no_exception(at)
    assert '.groupby(["Property_Area"])["approved"]' in _codes(at)
    rates = next(f for f in _frames(at) if list(f.columns) == ["mean", "count"])
    assert set(rates.index) == {"Rural", "Semiurban", "Urban"}

    at.segmented_control(key="ch02_pandas_action").set_value("merge").run()
    at.radio(key="ch02_merge_how").set_value("inner").run()
    assert_no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Left only"] == "0" and int(metrics["Rows after merge"]) < 614

    at.segmented_control(key="ch02_pandas_action").set_value("filter").run()
    at.selectbox(key="ch02_filter_column_1").set_value("Property_Area").run()
    at.selectbox(key="ch02_filter_op_1").set_value(">").run()
    assert "compare it with == or !=" in _texts(at.warning)

    expected = fu.approval_rate(load_course_data(), "Semiurban")
    at.text_input(key="ch02_rate_answer").input(f"{expected:.1f}").run()
    at.button(key="ch02_rate_save").click().run()
    assert "Answer saved" in _texts(at.success)
    at.button(key="ch02_groupby_answer_check").click().run()
    assert "Right: you answered" in _texts(at.success)


def test_the_rate_is_typed_the_french_way_and_a_bad_one_is_explained_in_french() -> None:
    """`66,2` is 66.2 (Streamlit's number input read it as 662); `6,6,2` is refused with a French message."""
    at = open_app("fr", PAGE)
    expected = fu.approval_rate(load_course_data(), "Semiurban")
    at.text_input(key="ch02_rate_answer").input("6,6,2").run()
    assert_no_exception(at)
    assert "n'est pas un nombre" in _texts(at.error) and at.button(key="ch02_rate_save").disabled
    at.text_input(key="ch02_rate_answer").input(f"{expected:.1f}".replace(".", ",")).run()
    assert not at.error
    at.button(key="ch02_rate_save").click().run()
    assert f"{expected:.1f}".replace(".", ",") in _texts(at.success)
    saved = fu.load_answers(get_settings(), get_settings().learner)[fu.rate_answer_key("Semiurban")]
    assert saved == pytest.approx(round(expected, 1))
    at.text_input(key="ch02_rate_answer").input("150").run()
    assert "entre 0 et 100" in _texts(at.error)


def test_csv_and_excel_round_trips_in_french() -> None:
    at = open_app("fr", PAGE)
    at.segmented_control(key="ch02_pandas_action").set_value("files").run()
    assert "Cliquez sur un des deux boutons" in _texts(at.info)
    for fmt in ("csv", "xlsx"):
        at.button(key=f"ch02_round_trip_{fmt}").click().run()
        assert_no_exception(at)
        assert f"loan.{fmt} relu : la table est identique" in _texts(at.success)
        assert (get_settings().learner_dir(get_settings().learner) / "fundamentals" / f"loan.{fmt}").is_file()
    assert "read_excel" in _codes(at)
    dtypes = next(f for f in _frames(at) if "Identique" in f.columns)
    assert dtypes["Identique"].all() and len(dtypes) == 13


def test_numpy_vs_loop_is_timed() -> None:
    at = open_app("fr", PAGE)
    at.select_slider(key="ch02_numpy_rows").set_value(10_000).run()
    at.button(key="ch02_numpy_run").click().run()
    assert_no_exception(at)
    labels = [m.label for m in at.metric]
    assert {"Boucle Python", "NumPy", "NumPy plus rapide de"} <= set(labels)
    assert "Même résultat pour les 10000 demandes" in _texts(at.success)


def test_predict_the_output_right_and_wrong() -> None:
    at = open_app("en", PAGE)
    at.selectbox(key="ch02_py_pick").set_value("list-aliasing").run()
    assert any("copy.append(2583)" in c.value for c in at.code)
    at.radio(key="ch02_py_answer_list_aliasing").set_value("4").run()
    at.button(key="ch02_py_check").click().run()
    assert_no_exception(at)
    assert "Right!" in _texts(at.success) and "same object" in _texts(at.info)

    at.selectbox(key="ch02_py_pick").set_value("set-dedup").run()
    at.text_area(key="ch02_py_answer_set_dedup").input("5").run()
    at.button(key="ch02_py_check").click().run()
    assert "Expected output: 3" in _texts(at.error)
    assert "1 right out of 2 tried" in at.get("progress")[0].proto.text


def test_git_sandbox_from_init_to_merge_then_the_check_passes() -> None:
    at = open_app("fr", PAGE)
    at.button(key="ch02_git_init").click().run()
    assert_no_exception(at)
    assert "$ git -c init.defaultBranch=main init" in _codes(at)
    at.button(key="ch02_git_write").click().run()
    at.button(key="ch02_git_add").click().run()
    assert "A  train.py" in _codes(at)
    at.button(key="ch02_git_commit").click().run()
    assert "[main (root-commit)" in _codes(at)

    at.button(key="ch02_git_branch").click().run()
    at.selectbox(key="ch02_git_switch_to").set_value("feature-income").run()
    at.button(key="ch02_git_switch").click().run()
    assert "Switched to branch 'feature-income'" in _codes(at)
    at.text_area(key="ch02_git_content").input("print('model v2')").run()
    at.button(key="ch02_git_write").click().run()
    at.button(key="ch02_git_add").click().run()
    at.text_input(key="ch02_git_message").input("Use the log of income").run()
    at.button(key="ch02_git_commit").click().run()
    at.selectbox(key="ch02_git_switch_to").set_value("main").run()
    at.button(key="ch02_git_switch").click().run()
    at.selectbox(key="ch02_git_merge_from").set_value("feature-income").run()
    at.checkbox(key="ch02_git_no_ff").check().run()
    at.button(key="ch02_git_merge").click().run()
    assert_no_exception(at)
    assert "$ git merge --no-ff feature-income" in _codes(at) and "Merge made by" in _codes(at)
    figure = at.get("plotly_chart")[-1].proto.spec
    assert "feature-income" in figure and "Historique : 3 commits" in figure
    assert "git switch main" in _codes(at)  # all the session's commands, ready to copy

    at.button(key="ch02_branch_merged_check").click().run()
    assert "Bravo : 1 commit fait sur la branche feature-income" in _texts(at.success)
    done = ProgressStore(get_settings().progress_db).completed_items(get_settings().learner)
    assert "branch-merged" in done["02_fundamentals"]

    at.checkbox(key="ch02_git_reset_confirm").check().run()
    at.button(key="ch02_git_reset").click().run()
    assert_no_exception(at)
    assert not gs.is_initialised(gs.sandbox_dir(get_settings(), get_settings().learner))
    assert at.button(key="ch02_git_init") is not None


def test_git_errors_are_messages() -> None:
    at = open_app("en", PAGE)
    at.button(key="ch02_git_init").click().run()
    at.text_input(key="ch02_git_file").input("../outside.txt").run()
    at.button(key="ch02_git_write").click().run()
    assert_no_exception(at)
    assert "is not a plain file name" in _texts(at.warning)
    at.button(key="ch02_git_commit").click().run()
    assert "nothing to commit" in _codes(at) or "nothing added to commit" in _codes(at)
    assert any("exit code 1" in w.value for w in at.warning)
