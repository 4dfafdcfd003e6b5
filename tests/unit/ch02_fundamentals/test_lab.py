"""Chapter II core: pandas actions (result + runnable code), round trips, NumPy vs loop, questions, check."""

from __future__ import annotations

import contextlib
import io
import math
import textwrap

import numpy as np
import pandas as pd
import pytest
from workbench.chapters.ch02_fundamentals import lab as fu
from workbench.core.data import generate_loan_data, load_course_data
from workbench.core.exercises import CheckContext
from workbench.core.records import records_for
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return generate_loan_data(80, seed=3)


@pytest.fixture
def tiny() -> pd.DataFrame:
    """Six applications whose rates are easy to compute by hand."""
    return pd.DataFrame(
        {
            "Loan_ID": ["L1", "L2", "L3", "L4", "L5", "L6"],
            "Property_Area": ["Urban", "Urban", "Rural", "Rural", "Semiurban", "Semiurban"],
            "Credit_History": [1.0, 0.0, 1.0, np.nan, 1.0, 1.0],
            "ApplicantIncome": [1000, 2000, 3000, 4000, 5000, 6000],
            "LoanAmount": [100.0, 120.0, np.nan, 90.0, 200.0, 150.0],
            "Loan_Status": ["Y", "N", "Y", "N", "Y", "Y"],
        }
    )


def _run(code: str, df: pd.DataFrame) -> pd.DataFrame:
    namespace = {"df": df, "pd": pd}
    exec(code, namespace)
    return namespace["result"]


@pytest.mark.parametrize(
    "action",
    [
        lambda df: fu.select_by_label(df, df["Loan_ID"].iloc[2], df["Loan_ID"].iloc[6], ["Gender", "LoanAmount"]),
        lambda df: fu.select_by_position(df, 3, 9, 1, 5),
        lambda df: fu.filter_rows(
            df, [fu.Condition("Credit_History", "==", "1"), fu.Condition("Property_Area", "!=", "Rural")]
        ),
        lambda df: fu.filter_rows(df, [fu.Condition("ApplicantIncome", ">=", "4000.5")]),
        lambda df: fu.group_by(df, ["Property_Area"], "approved", ["mean", "count"]),
        lambda df: fu.group_by(df, ["Credit_History", "Married"], "LoanAmount", ["median", "max"], dropna=False),
        lambda df: fu.pivot(df, "Property_Area", "Credit_History", "approved", "mean"),
        lambda df: fu.pivot(df, "Education", "Married", "LoanAmount", "median"),
        lambda df: fu.merge_regions(df, "outer"),
    ],
    ids=["loc", "iloc", "filter2", "filter_float", "groupby", "groupby_nan", "pivot_rate", "pivot_amount", "merge"],
)
def test_generated_code_gives_the_same_frame(loans, action) -> None:
    result, code = action(loans)
    pd.testing.assert_frame_equal(_run(code, loans), result)
    assert "\nresult = " in "\n" + code
    assert fu.with_preamble(code).startswith('import pandas as pd\n\ndf = pd.read_csv("data/loan.csv")')


def test_loc_includes_the_end_label_iloc_excludes_the_end(tiny) -> None:
    by_label, code = fu.select_by_label(tiny, "L1", "L3", ["ApplicantIncome"])
    assert list(by_label.index) == ["L1", "L2", "L3"]
    assert code == 'result = df.set_index("Loan_ID").loc["L1":"L3", ["ApplicantIncome"]]\n'
    by_position, code = fu.select_by_position(tiny, 0, 3, 0, 2)
    assert list(by_position["Loan_ID"]) == ["L1", "L2", "L3"] and by_position.shape == (3, 2)
    assert code == "result = df.iloc[0:3, 0:2]\n"


@pytest.mark.parametrize(
    "call, key",
    [
        (lambda df: fu.select_by_label(df, "L3", "L1", ["LoanAmount"]), "error_label_order"),
        (lambda df: fu.select_by_label(df, "L1", "L9", ["LoanAmount"]), "error_unknown_label"),
        (lambda df: fu.select_by_label(df, "L1", "L2", ["Nope"]), "error_unknown_columns"),
        (lambda df: fu.select_by_position(df, 3, 3, 0, 1), "error_empty_slice"),
        (lambda df: fu.filter_rows(df, []), "error_no_condition"),
        (lambda df: fu.filter_rows(df, [fu.Condition("ApplicantIncome", ">", "lots")]), "error_not_a_number"),
        (lambda df: fu.filter_rows(df, [fu.Condition("Property_Area", ">", "Urban")]), "error_text_order"),
        (lambda df: fu.filter_rows(df, [fu.Condition("ApplicantIncome", "~", "1")]), "error_bad_operator"),
        (lambda df: fu.group_by(df, [], "approved", ["mean"]), "error_groupby_empty"),
        (lambda df: fu.group_by(df, ["Property_Area"], "approved", ["mode"]), "error_bad_aggregation"),
        (lambda df: fu.pivot(df, "Property_Area", "Property_Area", "approved", "mean"), "error_pivot_same"),
        (lambda df: fu.merge_regions(df, "cross"), "error_bad_how"),
        (lambda df: fu.approval_rate(df, "Coastal"), "error_unknown_area"),
    ],
)
def test_bad_requests_raise_a_translated_lab_error(tiny, call, key) -> None:
    with pytest.raises(fu.LabError) as info:
        call(tiny)
    assert info.value.key == key
    assert info.value.message("fr") != info.value.message("en")
    assert not info.value.message("fr").startswith("fundamentals.")


def test_filter_keeps_only_matching_rows_and_ignores_missing(tiny) -> None:
    result, code = fu.filter_rows(tiny, [fu.Condition("Credit_History", "==", "1")])
    assert list(result["Loan_ID"]) == ["L1", "L3", "L5", "L6"]
    assert code == 'result = df[(df["Credit_History"] == 1)]\n'
    result, _ = fu.filter_rows(tiny, [fu.Condition("Credit_History", "!=", "1")])
    assert list(result["Loan_ID"]) == ["L2", "L4"]  # NaN != 1 is True in pandas, as in the code shown


def test_groupby_approval_rates(tiny) -> None:
    result, _ = fu.group_by(tiny, ["Property_Area"], "approved", ["mean", "count"])
    assert result.loc["Urban", "mean"] == 0.5 and result.loc["Semiurban", "mean"] == 1.0
    assert result["count"].to_dict() == {"Rural": 2, "Semiurban": 2, "Urban": 2}
    with_nan, code = fu.group_by(tiny, ["Credit_History"], "approved", ["mean"], dropna=False)
    assert "dropna=False" in code and len(with_nan) == 3
    assert len(fu.group_by(tiny, ["Credit_History"], "approved", ["mean"])[0]) == 2


def test_pivot_crosses_two_dimensions(tiny) -> None:
    result, _ = fu.pivot(tiny, "Property_Area", "Credit_History", "ApplicantIncome", "sum")
    assert result.loc["Urban", 0.0] == 2000 and result.loc["Semiurban", 1.0] == 11000


@pytest.mark.parametrize(
    "how, rows, counts",
    [
        ("inner", 4, {"both": 4, "left_only": 0, "right_only": 0}),
        ("left", 6, {"both": 4, "left_only": 2, "right_only": 0}),
        ("right", 5, {"both": 4, "left_only": 0, "right_only": 1}),
        ("outer", 7, {"both": 4, "left_only": 2, "right_only": 1}),
    ],
)
def test_merge_keeps_different_rows_for_each_how(tiny, how, rows, counts) -> None:
    result, code = fu.merge_regions(tiny, how)
    assert len(result) == rows and fu.merge_counts(result) == counts
    assert f'how="{how}"' in code and "indicator=True" in code
    assert result.loc[result["Property_Area"] == "Urban", "Branches"].eq(12).all()


@pytest.mark.parametrize("fmt", fu.FORMATS)
def test_round_trip_of_the_course_data_is_identical(tmp_path, fmt) -> None:
    df = load_course_data()
    trip = fu.round_trip(df, tmp_path, fmt)
    assert trip.equal and trip.values_equal
    assert trip.path == tmp_path / f"loan.{fmt}" and trip.size == trip.path.stat().st_size > 1000
    assert trip.dtypes["same"].all() and len(trip.dtypes) == df.shape[1]
    assert ("read_excel" in trip.code) == (fmt == "xlsx")


def test_round_trip_reports_a_changed_dtype(tmp_path) -> None:
    df = pd.DataFrame({"amount": pd.Series([1, 2, 3], dtype="int32"), "area": ["a", "b", "c"]})
    trip = fu.round_trip(df, tmp_path, "csv")
    assert trip.values_equal and not trip.equal
    row = trip.dtypes.set_index("column").loc["amount"]
    assert (row["before"], row["after"], bool(row["same"])) == ("int32", "int64", False)
    with pytest.raises(fu.LabError):
        fu.round_trip(df, tmp_path, "parquet")


def test_instalments_loop_and_numpy_agree_with_the_formula() -> None:
    amounts, terms = [120.0, 120.0, math.nan, 60.0], [360.0, 360.0, 360.0, math.nan]
    assert fu.instalments_loop(amounts, terms, 0.0)[0] == pytest.approx(333.3333, abs=1e-4)
    looped = fu.instalments_loop(amounts, terms, 6.0)
    assert looped[0] == pytest.approx(719.46, abs=0.01)
    assert math.isnan(looped[2]) and math.isnan(looped[3])
    np.testing.assert_allclose(fu.instalments_numpy(np.array(amounts), np.array(terms), 6.0), looped)


def test_compare_loop_numpy_measures_both_and_checks_the_result(loans) -> None:
    result = fu.compare_loop_numpy(loans, 5000, 4.0)
    assert result.n == 5000 and result.same and result.max_abs_diff < 1e-6
    assert result.loop_seconds > 0 and result.numpy_seconds > 0 and result.ratio > 1
    assert list(result.sample.columns) == ["LoanAmount", "Loan_Amount_Term", "instalment"]


def test_numpy_vs_loop_code_runs(monkeypatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(fu.numpy_vs_loop_code(2000, 5.0), {"__name__": "__main__"})
    assert "same result: True" in out.getvalue() and "ratio" in out.getvalue()


QUESTIONS = fu.load_python_questions()


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_question_prints_its_declared_answer(question) -> None:
    """The teacher's snippets really print what the YAML says (run here by the tests, never by the app)."""
    out = io.StringIO()
    raised = None
    with contextlib.redirect_stdout(out):
        try:
            exec(question.code, {"__name__": "__main__"})
        except Exception as exc:  # the snippet's own, expected error
            raised = type(exc).__name__
    printed = out.getvalue().rstrip("\n")
    assert raised == question.raises
    expected = question.answer if raised is None else question.answer.removesuffix(raised).rstrip("\n")
    assert printed == expected
    assert fu.grade_output(question, question.answer)


def test_questions_cover_every_topic() -> None:
    assert len(QUESTIONS) >= 8 and {q.topic for q in QUESTIONS} == set(fu.TOPICS)
    assert any(q.options for q in QUESTIONS) and any(not q.options for q in QUESTIONS)


def test_grade_output_is_tolerant_with_spaces_and_quotes_only() -> None:
    question = fu.OutputQuestion("q", "functions", "print(x)", "['a', 'b']\nNone", (), ("x",), None, {})
    assert fu.grade_output(question, '["a",  "b"]   None')
    assert fu.grade_output(question, "x")
    assert not fu.grade_output(question, "['a', 'b']")
    assert not fu.grade_output(question, "   ")


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "a", "code": "print(1)", "answer": "1", "explanation": {"fr": "x"}},
        {"id": "a", "code": "print(1)", "answer": "2", "options": ["1", "3"], "explanation": {"fr": "x", "en": "y"}},
        {"id": "", "code": "print(1)", "answer": "1", "explanation": {"fr": "x", "en": "y"}},
    ],
)
def test_malformed_questions_are_refused(tmp_path, entry) -> None:
    import yaml

    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump({"questions": [entry]}))
    with pytest.raises(fu.LabError, match="incomplete"):
        fu.load_python_questions(path)


def test_duplicate_question_ids_are_refused(tmp_path) -> None:
    entry = textwrap.dedent("""
        - id: same
          code: print(1)
          answer: "1"
          explanation: {fr: x, en: y}
    """)
    path = tmp_path / "questions.yaml"
    path.write_text("questions:" + entry + entry)
    with pytest.raises(fu.LabError):
        fu.load_python_questions(path)


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


def test_check_groupby_answer() -> None:
    settings = get_settings()
    result = fu.check_groupby_answer(_ctx("fr"))
    assert not result.passed and "Aucune réponse" in result.missing[0]

    actual = fu.approval_rate(load_course_data(), "Semiurban")
    assert 60 < actual < 90
    fu.save_answer(settings, "ana", fu.rate_answer_key("Semiurban"), round(actual + 2, 1))
    result = fu.check_groupby_answer(_ctx())
    assert not result.passed and "more than 0.5 point" in result.missing[0]

    fu.save_answer(settings, "ana", fu.rate_answer_key("Semiurban"), round(actual, 1))
    result = fu.check_groupby_answer(_ctx())
    assert result.passed and result.evidence["actual"] == pytest.approx(actual, abs=0.01)
    assert fu.load_answers(settings, "ana") == {"approval_rate_Semiurban": round(actual, 1)}
    assert records_for(settings, "ana").keys() == [fu.ANSWERS_KEY]
    assert not fu.check_groupby_answer(_ctx(), area="Urban").passed
