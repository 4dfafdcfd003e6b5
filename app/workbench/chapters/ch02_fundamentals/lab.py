"""Chapter II: the pandas lab, NumPy against a Python loop, "predict the output" questions, the checks.

Every pandas action returns the resulting DataFrame *and* the exact pandas code that produces it from
`df` (the course table), so the page can show both and the tests can run the code and compare frames.
Nothing here executes code typed by a learner: answers to "predict the output" questions are compared
as text with the answer written by the teacher in `lessons/python_questions.yaml`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import LocalizedError, translate
from workbench.core.records import records_for
from workbench.core.settings import Settings, get_settings

APPROVED = "approved"  # the derived column: Loan_Status == "Y"
AGGREGATIONS: tuple[str, ...] = ("mean", "median", "sum", "count", "min", "max")
OPERATORS: tuple[str, ...] = ("==", "!=", ">", ">=", "<", "<=")
MERGE_HOWS: tuple[str, ...] = ("inner", "left", "right", "outer")
FORMATS: tuple[str, ...] = ("csv", "xlsx")
PREAMBLE = 'import pandas as pd\n\ndf = pd.read_csv("data/loan.csv")\n'
QUESTIONS_FILE = "python_questions.yaml"
TOPICS: tuple[str, ...] = ("data_structures", "control_flow", "functions", "classes")


class LabError(LocalizedError, ValueError):
    """An action the lab cannot do; `message(lang)` explains why in the learner's language."""

    namespace = "fundamentals"


# --------------------------------------------------------------------------------------------
# pandas lab: each action returns (result, code); `code` assumes `df` and `pd` and sets `result`
# --------------------------------------------------------------------------------------------


def with_preamble(code: str) -> str:
    """The snippet preceded by the import and the read of the course file, ready to copy."""
    return PREAMBLE + code


def _py(value: object) -> str:
    """A Python literal of a string or a list of strings, with double quotes."""
    return json.dumps(value, ensure_ascii=False)


def _check_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    unknown = [c for c in columns if c not in df.columns and c != APPROVED]
    if unknown:
        raise LabError("error_unknown_columns", columns=", ".join(unknown))


def select_by_label(df: pd.DataFrame, start: str, end: str, columns: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """Rows from label `start` to label `end` (both included) of the table indexed by Loan_ID, with `columns`.

    Raises:
        LabError: an unknown label or column, or `end` before `start`.
    """
    _check_columns(df, columns)
    indexed = df.set_index("Loan_ID")
    for label in (start, end):
        if label not in indexed.index:
            raise LabError("error_unknown_label", label=label)
    if indexed.index.get_loc(end) < indexed.index.get_loc(start):
        raise LabError("error_label_order", start=start, end=end)
    result = indexed.loc[start:end, list(columns)]
    return result, f'result = df.set_index("Loan_ID").loc[{_py(start)}:{_py(end)}, {_py(list(columns))}]\n'


def select_by_position(
    df: pd.DataFrame, row_start: int, row_stop: int, col_start: int, col_stop: int
) -> tuple[pd.DataFrame, str]:
    """Rows `row_start` to `row_stop` (excluded) and columns `col_start` to `col_stop` (excluded), by position.

    Raises:
        LabError: a slice that selects nothing.
    """
    if row_stop <= row_start or col_stop <= col_start:
        raise LabError("error_empty_slice")
    result = df.iloc[row_start:row_stop, col_start:col_stop]
    return result, f"result = df.iloc[{row_start}:{row_stop}, {col_start}:{col_stop}]\n"


@dataclass(frozen=True)
class Condition:
    """One comparison of a boolean filter, e.g. `Credit_History == 1`."""

    column: str
    op: str
    value: str | float


def _typed_value(df: pd.DataFrame, column: str, value: str | float) -> str | float:
    if pd.api.types.is_numeric_dtype(df[column]):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise LabError("error_not_a_number", column=column, value=value) from None
    return str(value)


def _literal(value: str | float) -> str:
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return _py(value)


def filter_rows(df: pd.DataFrame, conditions: Sequence[Condition]) -> tuple[pd.DataFrame, str]:
    """The rows meeting every condition (combined with `&`).

    Raises:
        LabError: no condition, an unknown column or operator, or a number expected but text given.
    """
    if not conditions:
        raise LabError("error_no_condition")
    _check_columns(df, [c.column for c in conditions])
    mask = pd.Series(True, index=df.index)
    parts = []
    for cond in conditions:
        if cond.op not in OPERATORS or cond.column == APPROVED:
            raise LabError("error_bad_operator", op=cond.op)
        value = _typed_value(df, cond.column, cond.value)
        if not pd.api.types.is_numeric_dtype(df[cond.column]) and cond.op not in ("==", "!="):
            raise LabError("error_text_order", column=cond.column)
        series = df[cond.column]
        mask &= (
            {
                "==": series == value,
                "!=": series != value,
                ">": series > value,
                ">=": series >= value,
                "<": series < value,
                "<=": series <= value,
            }[cond.op]
            .fillna(False)
            .astype(bool)
        )
        parts.append(f"(df[{_py(cond.column)}] {cond.op} {_literal(value)})")
    result = df[mask]
    return result, f"result = df[{' & '.join(parts)}]\n"


def _source(column: str) -> str:
    """The expression of the table to aggregate, adding the derived `approved` column when needed."""
    return f'df.assign({APPROVED}=df["Loan_Status"] == "Y")' if column == APPROVED else "df"


def _with_approved(df: pd.DataFrame, column: str) -> pd.DataFrame:
    return df.assign(**{APPROVED: df["Loan_Status"] == "Y"}) if column == APPROVED else df


def group_by(
    df: pd.DataFrame, by: Sequence[str], target: str, aggs: Sequence[str], dropna: bool = True
) -> tuple[pd.DataFrame, str]:
    """`target` aggregated by the groups of `by` (target `approved` is the approval rate when averaged).

    Raises:
        LabError: no grouping column or aggregation, an unknown column or aggregation.
    """
    if not by or not aggs:
        raise LabError("error_groupby_empty")
    _check_columns(df, [*by, target])
    if unknown := [a for a in aggs if a not in AGGREGATIONS]:
        raise LabError("error_bad_aggregation", aggs=", ".join(unknown))
    result = _with_approved(df, target).groupby(list(by), dropna=dropna)[target].agg(list(aggs))
    drop = "" if dropna else ", dropna=False"
    code = (
        "result = (\n"
        f"    {_source(target)}\n"
        f"    .groupby({_py(list(by))}{drop})[{_py(target)}]\n"
        f"    .agg({_py(list(aggs))})\n"
        ")\n"
    )
    return result, code


def pivot(df: pd.DataFrame, index: str, columns: str, values: str, aggfunc: str) -> tuple[pd.DataFrame, str]:
    """A pivot table: `values` aggregated with `aggfunc` for each (`index`, `columns`) pair.

    Raises:
        LabError: the same column twice, an unknown column or aggregation.
    """
    if len({index, columns, values}) < 3:
        raise LabError("error_pivot_same")
    _check_columns(df, [index, columns, values])
    if aggfunc not in AGGREGATIONS:
        raise LabError("error_bad_aggregation", aggs=aggfunc)
    table = _with_approved(df, values)
    result = table.pivot_table(index=index, columns=columns, values=values, aggfunc=aggfunc)
    code = (
        f"result = {_source(values)}.pivot_table(\n"
        f"    index={_py(index)}, columns={_py(columns)}, values={_py(values)}, aggfunc={_py(aggfunc)}\n"
        ")\n"
    )
    return result, code


def region_table() -> pd.DataFrame:
    """A small table of regional information the lab defines (invented figures, for the merge).

    Rural is deliberately missing and Coastal has no application: each `how` of a merge then keeps
    different rows.
    """
    return pd.DataFrame(
        {
            "Property_Area": ["Urban", "Semiurban", "Coastal"],
            "Branches": [12, 7, 3],
            "Base_Rate": [4.1, 3.8, 4.5],
        }
    )


REGIONS_CODE = """regions = pd.DataFrame({
    "Property_Area": ["Urban", "Semiurban", "Coastal"],
    "Branches": [12, 7, 3],
    "Base_Rate": [4.1, 3.8, 4.5],
})
"""


def merge_regions(df: pd.DataFrame, how: str) -> tuple[pd.DataFrame, str]:
    """The loans joined with `region_table()` on Property_Area, with pandas' `_merge` indicator column.

    Raises:
        LabError: `how` is not one of MERGE_HOWS.
    """
    if how not in MERGE_HOWS:
        raise LabError("error_bad_how", how=how)
    result = df.merge(region_table(), on="Property_Area", how=how, indicator=True)
    code = REGIONS_CODE + f'result = df.merge(regions, on="Property_Area", how="{how}", indicator=True)\n'
    return result, code


def merge_counts(merged: pd.DataFrame) -> dict[str, int]:
    """How many rows of a merge came from both tables, only the left one, only the right one."""
    counts = merged["_merge"].value_counts()
    return {str(k): int(counts.get(k, 0)) for k in ("both", "left_only", "right_only")}


# --------------------------------------------------------------------------------------------
# CSV and Excel round trip
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundTrip:
    """A table written to a file and read back: does it come back identical?"""

    fmt: str
    path: Path
    size: int
    write_seconds: float
    read_seconds: float
    equal: bool  # same values AND same dtypes
    values_equal: bool  # same values, whatever the dtypes
    dtypes: pd.DataFrame  # column, before, after, same
    code: str


def round_trip(df: pd.DataFrame, folder: Path, fmt: str) -> RoundTrip:
    """Save `df` as CSV or Excel (openpyxl) in `folder`, read it back and compare.

    Raises:
        LabError: an unknown format.
    """
    if fmt not in FORMATS:
        raise LabError("error_bad_format", fmt=fmt)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"loan.{fmt}"
    start = time.perf_counter()
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_excel(path, index=False, sheet_name="loans", engine="openpyxl")
    written = time.perf_counter()
    back = pd.read_csv(path) if fmt == "csv" else pd.read_excel(path, sheet_name="loans", engine="openpyxl")
    read = time.perf_counter()
    dtypes = pd.DataFrame(
        {
            "column": list(df.columns),
            "before": [str(df[c].dtype) for c in df.columns],
            "after": [str(back[c].dtype) if c in back else "—" for c in df.columns],
        }
    )
    dtypes["same"] = dtypes["before"] == dtypes["after"]
    try:
        pd.testing.assert_frame_equal(df.reset_index(drop=True), back, check_dtype=False)
        values_equal = True
    except AssertionError:
        values_equal = False
    return RoundTrip(
        fmt=fmt,
        path=path,
        size=path.stat().st_size,
        write_seconds=written - start,
        read_seconds=read - written,
        equal=values_equal and bool(dtypes["same"].all()),
        values_equal=values_equal,
        dtypes=dtypes,
        code=round_trip_code(fmt),
    )


def round_trip_code(fmt: str) -> str:
    """The pandas code of a CSV or Excel round trip."""
    if fmt == "csv":
        body = 'df.to_csv("loan_copy.csv", index=False)\nback = pd.read_csv("loan_copy.csv")\n'
    else:
        body = (
            'df.to_excel("loan.xlsx", index=False, sheet_name="loans")  # needs openpyxl\n'
            'back = pd.read_excel("loan.xlsx", sheet_name="loans")\n'
        )
    return (
        PREAMBLE
        + body
        + "pd.testing.assert_frame_equal(df, back)  # raises if a value or a dtype changed\n"
        + "print(pd.DataFrame({'before': df.dtypes, 'after': back.dtypes}))\n"
    )


# --------------------------------------------------------------------------------------------
# NumPy against a Python loop
# --------------------------------------------------------------------------------------------


def instalments_loop(amounts: Sequence[float], terms: Sequence[float], annual_rate: float) -> list[float]:
    """Monthly instalment of each loan, one at a time in a Python loop (amounts in thousands)."""
    r = annual_rate / 100 / 12
    out = []
    for amount, term in zip(amounts, terms):
        if math.isnan(amount) or math.isnan(term):
            out.append(math.nan)
        elif r == 0:
            out.append(amount * 1000 / term)
        else:
            out.append(amount * 1000 * r / (1 - (1 + r) ** -term))
    return out


def instalments_numpy(amounts: np.ndarray, terms: np.ndarray, annual_rate: float) -> np.ndarray:
    """The same instalments computed on whole arrays at once (NaN stays NaN)."""
    r = annual_rate / 100 / 12
    principal = np.asarray(amounts, dtype=float) * 1000
    terms = np.asarray(terms, dtype=float)
    if r == 0:
        return principal / terms
    return principal * r / (1 - (1 + r) ** -terms)


@dataclass(frozen=True)
class SpeedComparison:
    """Timings of the loop and of NumPy on the same computation, and whether they agree."""

    n: int
    loop_seconds: float
    numpy_seconds: float
    max_abs_diff: float
    same: bool
    sample: pd.DataFrame  # a few rows: amount, term, instalment

    @property
    def ratio(self) -> float:
        """How many times faster NumPy was."""
        return self.loop_seconds / self.numpy_seconds if self.numpy_seconds > 0 else math.inf


def compare_loop_numpy(df: pd.DataFrame, n_rows: int, annual_rate: float, repeats: int = 3) -> SpeedComparison:
    """Time the instalment of `n_rows` applications (the course table repeated) with a loop and with NumPy.

    The loop runs once (it is the slow one); NumPy keeps the best of `repeats` runs.
    """
    amounts = np.resize(df["LoanAmount"].to_numpy(dtype=float), n_rows)
    terms = np.resize(df["Loan_Amount_Term"].to_numpy(dtype=float), n_rows)
    amount_list, term_list = amounts.tolist(), terms.tolist()  # the loop gets plain Python floats
    start = time.perf_counter()
    looped = instalments_loop(amount_list, term_list, annual_rate)
    loop_seconds = time.perf_counter() - start
    numpy_seconds = math.inf
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        vectorised = instalments_numpy(amounts, terms, annual_rate)
        numpy_seconds = min(numpy_seconds, time.perf_counter() - start)
    looped_array = np.array(looped)
    both = ~np.isnan(looped_array) & ~np.isnan(vectorised)
    diff = float(np.max(np.abs(looped_array[both] - vectorised[both]))) if both.any() else 0.0
    same = bool(
        np.array_equal(np.isnan(looped_array), np.isnan(vectorised))
        and np.allclose(looped_array[both], vectorised[both], rtol=1e-12, atol=1e-9)
    )
    sample = pd.DataFrame(
        {"LoanAmount": amounts[:5], "Loan_Amount_Term": terms[:5], "instalment": np.round(vectorised[:5], 2)}
    )
    return SpeedComparison(n_rows, loop_seconds, numpy_seconds, diff, same, sample)


def numpy_vs_loop_code(n_rows: int, annual_rate: float) -> str:
    """Plain Python equivalent of `compare_loop_numpy`, to run on one's own machine."""
    return f"""import math
import time

import numpy as np
import pandas as pd

df = pd.read_csv("data/loan.csv")
amounts = np.resize(df["LoanAmount"].to_numpy(dtype=float), {n_rows})   # in thousands
terms = np.resize(df["Loan_Amount_Term"].to_numpy(dtype=float), {n_rows})  # in months
r = {annual_rate} / 100 / 12                                            # monthly rate

start = time.perf_counter()
looped = []
for amount, term in zip(amounts.tolist(), terms.tolist()):
    if math.isnan(amount) or math.isnan(term):
        looped.append(math.nan)
    else:
        looped.append(amount * 1000 * r / (1 - (1 + r) ** -term))
loop_seconds = time.perf_counter() - start

start = time.perf_counter()
vectorised = amounts * 1000 * r / (1 - (1 + r) ** -terms)                # no loop
numpy_seconds = time.perf_counter() - start

print(f"loop {{loop_seconds:.3f}} s, NumPy {{numpy_seconds:.4f}} s, ratio {{loop_seconds / numpy_seconds:.0f}}x")
print("same result:", np.allclose(looped, vectorised, equal_nan=True))
"""


# --------------------------------------------------------------------------------------------
# "Predict the output" questions (text comparison only; learner input is never executed)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputQuestion:
    """A code snippet and what it prints, written by a teacher."""

    id: str
    topic: str
    code: str
    answer: str
    options: tuple[str, ...]  # empty: the learner types the output
    accept: tuple[str, ...]  # other spellings accepted for a typed answer
    raises: str | None  # the exception name when the snippet ends with an error
    explanation: dict[str, str]


def load_python_questions(path: Path | None = None) -> list[OutputQuestion]:
    """The questions of `lessons/python_questions.yaml`, in file order.

    Raises:
        LabError: a question lacks its id, code, answer or bilingual explanation, or repeats an id,
            or its answer is not among its options.
    """
    import yaml

    path = path or get_settings().lessons_dir / QUESTIONS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    questions, seen = [], set()
    for raw in data.get("questions") or []:
        qid = str(raw.get("id", "")).strip()
        explanation = raw.get("explanation") or {}
        if not qid or qid in seen or not raw.get("code") or "answer" not in raw:
            raise LabError("error_question", id=qid or "?")
        if not all(str(explanation.get(lang, "")).strip() for lang in ("fr", "en")):
            raise LabError("error_question", id=qid)
        options = tuple(str(o) for o in raw.get("options") or ())
        answer = str(raw["answer"]).rstrip("\n")
        if options and answer not in options:
            raise LabError("error_question", id=qid)
        topic = str(raw.get("topic", "data_structures"))
        seen.add(qid)
        questions.append(
            OutputQuestion(
                id=qid,
                topic=topic if topic in TOPICS else "data_structures",
                code=str(raw["code"]).rstrip("\n"),
                answer=answer,
                options=options,
                accept=tuple(str(a) for a in raw.get("accept") or ()),
                raises=raw.get("raises"),
                explanation={lang: str(explanation[lang]).strip() for lang in ("fr", "en")},
            )
        )
    return questions


def normalize_output(text: str) -> str:
    """Text of an output with whitespace collapsed and quotes unified, for a tolerant comparison."""
    return " ".join(str(text).replace('"', "'").split())


def grade_output(question: OutputQuestion, given: str) -> bool:
    """True when `given` is the snippet's output (or an accepted spelling of it)."""
    wanted = {normalize_output(a) for a in (question.answer, *question.accept)}
    return normalize_output(given) in wanted and bool(str(given).strip())


# --------------------------------------------------------------------------------------------
# Learner answers and the hands-on check
# --------------------------------------------------------------------------------------------


ANSWERS_KEY = "ch02_fundamentals/answers.json"  # the learner's chapter-II answers


def load_answers(settings: Settings, learner: str) -> dict:
    """The learner's saved answers (empty if none or unreadable)."""
    data = records_for(settings, learner).get_json(ANSWERS_KEY, {})
    return data if isinstance(data, dict) else {}


def save_answer(settings: Settings, learner: str, key: str, value: object) -> dict:
    """Save one answer (atomically) and return all the learner's answers."""
    return records_for(settings, learner).update_json(ANSWERS_KEY, {key: value})


def approval_rate(df: pd.DataFrame, area: str) -> float:
    """Approval rate (in %) of the applications of one Property_Area.

    Raises:
        LabError: no application in that area.
    """
    rows = df[df["Property_Area"] == area]
    if rows.empty:
        raise LabError("error_unknown_area", area=area)
    return float((rows["Loan_Status"] == "Y").mean() * 100)


def rate_answer_key(area: str) -> str:
    """Key of the saved answer to the approval-rate question for `area`."""
    return f"approval_rate_{area}"


def check_groupby_answer(ctx: CheckContext, area: str = "Semiurban", tolerance: float = 0.5) -> CheckResult:
    """Passed when the learner's saved approval rate of `area` is within `tolerance` points of the data's."""
    from workbench.core.data import load_course_data

    given = load_answers(ctx.settings, ctx.learner).get(rate_answer_key(area))
    if not isinstance(given, int | float):
        return failed(translate("fundamentals.check_no_answer", ctx.lang, area=area))
    actual = approval_rate(load_course_data(ctx.settings.data_path), area)
    evidence = {"area": area, "given": given, "actual": round(actual, 2)}
    if abs(given - actual) <= tolerance:
        detail = translate("fundamentals.check_rate_ok", ctx.lang, area=area, given=given, actual=actual)
        return passed(detail, evidence=evidence)
    hint = translate("fundamentals.check_rate_off", ctx.lang, area=area, given=given, tolerance=tolerance)
    return failed(hint, evidence=evidence)
