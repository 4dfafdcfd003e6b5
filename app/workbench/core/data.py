"""The course dataset: loan approval, its schema, a seeded synthetic twin, and a validating loader.

The course's case study is a public loan-approval table (614 training rows, 13 columns). The project
ships a *generated twin* (`data/loan.csv`) with the same columns, dtypes, value sets, missing-value
rates and the same main relationships (Credit_History drives approval; about 69 % approved). A teacher
can point the workbench at the original file instead (`WORKBENCH_DATA`), which the loader accepts with
or without the target column. See `data/README.md`.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from workbench.core.i18n import LocalizedError, translate
from workbench.core.loan_schema import (  # the schema, defined once there, re-exported here
    CATEGORICAL_FEATURES,
    CATEGORIES,
    COLUMNS,
    FEATURES,
    ID,
    LOAN_SCHEMA,
    NEGATIVE,
    NULLABLE,
    NUMERIC_FEATURES,
    POSITIVE,
    TARGET,
)
from workbench.core.loan_schema import (
    NUMERIC_RANGES as NUMERIC_RANGES,
)
from workbench.core.settings import get_settings

# Rates measured on the course's train.csv (614 rows), used by the generator.
MISSING_RATES: dict[str, float] = {
    "Gender": 0.021,
    "Married": 0.005,
    "Dependents": 0.024,
    "Self_Employed": 0.052,
    "LoanAmount": 0.036,
    "Loan_Amount_Term": 0.023,
    "Credit_History": 0.081,
}
TERM_VALUES = np.array([360, 180, 480, 300, 240, 84, 120, 60, 36, 12], dtype=float)
TERM_WEIGHTS = np.array([512, 44, 15, 13, 4, 4, 3, 2, 2, 1], dtype=float)
DEFAULT_SEED = 79
DEFAULT_ROWS = 614


def _exact_share(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """`n` booleans of which exactly round(share * n) are True, in random order."""
    out = np.zeros(n, dtype=bool)
    out[: round(share * n)] = True
    return rng.permutation(out)


def generate_loan_data(n_rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Generate the synthetic twin of the course's loan data.

    Besides the columns' distributions, the twin keeps what separates model families on the original
    file: approval is mostly additive in the log-odds (so a logistic regression is as good as a forest
    on unseen data while trees and boosting overfit), with a mild preference for middle incomes and the
    rare households with a huge co-applicant income mostly refused (only a linear model extrapolates
    to them). `data/README.md` compares both files; `tests/unit/test_data.py` checks it.

    Args:
        n_rows: number of applications.
        seed: random seed; the same seed always gives the same table.

    Returns:
        A DataFrame with the 13 course columns and the dtypes `pd.read_csv` gives the original file.
    """
    rng = np.random.default_rng(seed)
    n = n_rows

    gender = np.where(rng.random(n) < 0.814, "Male", "Female")
    p_married = np.where(gender == "Male", 0.74, 0.28)
    married = np.where(rng.random(n) < p_married, "Yes", "No")
    dep_probs = {"Yes": [0.46, 0.21, 0.22, 0.11], "No": [0.83, 0.09, 0.05, 0.03]}
    dependents = np.array([rng.choice(CATEGORIES["Dependents"], p=dep_probs[m]) for m in married], dtype=object)
    education = np.where(rng.random(n) < 0.78, "Graduate", "Not Graduate")
    self_employed = np.where(rng.random(n) < 0.14, "Yes", "No")
    area = rng.choice(CATEGORIES["Property_Area"], p=[0.329, 0.380, 0.291], size=n)

    # Incomes: log-normal around the source's median, graduates and the self-employed earn more, and
    # one application in five has a long right tail (the source's top 1 % earn over 30,000 a month).
    log_income = 7.95 + 0.28 * (education == "Graduate") + 0.2 * (self_employed == "Yes")
    tail = rng.random(n) < 0.2
    applicant = np.exp(log_income + rng.normal(0, 0.42, n) + tail * rng.exponential(0.7, n))
    applicant = np.clip(np.round(applicant), 150, 81_000).astype("int64")
    has_coapplicant = rng.random(n) < np.where(married == "Yes", 0.68, 0.34)
    co_tail = rng.random(n) < 0.05
    coapplicant = np.exp(7.65 + rng.normal(0, 0.55, n) + co_tail * rng.exponential(1.0, n))
    coapplicant = np.round(np.clip(np.where(has_coapplicant, coapplicant, 0.0), 0, 41_667))
    fractional = has_coapplicant & (rng.random(n) < 0.03)  # a few non-integer amounts, as in the source
    coapplicant = np.where(fractional, coapplicant + 0.5, coapplicant).astype(float)

    # LoanAmount (thousands) grows with household income.
    total = applicant + coapplicant
    loan = np.exp(4.85 + 0.42 * (np.log(total) - np.log(5400)) + rng.normal(0, 0.42, n))
    loan = np.clip(np.round(loan), 9, 700).astype(float)
    term = rng.choice(TERM_VALUES, p=TERM_WEIGHTS / TERM_WEIGHTS.sum(), size=n)
    credit = _exact_share(rng, n, 0.842).astype(float)

    # Approval: credit history dominates (8 % approved without, 80 % with); property area, marriage,
    # education and dependents add a little, additively; middle incomes help a little (a capped
    # penalty, so the very rich are not refused for it), so do affordable instalments; a huge
    # co-applicant income (over 9,000 a month) is mostly refused, as in the source.
    affordability = loan * 1000 / term / np.maximum(total, 1)
    income_z = (np.log(total) - np.log(5400)) / 0.6
    logit = (
        -3.36
        + 3.98 * credit
        + 0.6 * (area == "Semiurban")
        - 0.25 * (area == "Rural")
        + 0.5 * (married == "Yes")
        + 0.5 * (education == "Graduate")
        + 0.3 * (dependents == "2")
        - 0.2 * (dependents == "1")
        - 0.5 * np.clip(affordability - 0.15, 0, None)
        - 0.1 * np.minimum(income_z**2, 1.5)
        - 1.6 * (coapplicant > 9_000)
    )
    approved = rng.random(n) < 1 / (1 + np.exp(-logit))
    status = np.where(approved, POSITIVE, NEGATIVE)

    df = pd.DataFrame(
        {
            ID: [f"LP{1002 + 3 * i:06d}" for i in range(n)],
            "Gender": gender,
            "Married": married,
            "Dependents": dependents,
            "Education": education,
            "Self_Employed": self_employed,
            "ApplicantIncome": applicant,
            "CoapplicantIncome": coapplicant,
            "LoanAmount": loan,
            "Loan_Amount_Term": term,
            "Credit_History": credit,
            "Property_Area": area,
            TARGET: status,
        }
    )
    for column, rate in MISSING_RATES.items():
        mask = np.zeros(n, dtype=bool)
        mask[rng.choice(n, size=round(rate * n), replace=False)] = True
        df[column] = df[column].where(~mask)
    # A missing credit history carries no signal: 74 % approved, as in the source.
    missing_credit = df["Credit_History"].isna().to_numpy()
    df.loc[missing_credit, TARGET] = np.where(_exact_share(rng, int(missing_credit.sum()), 0.74), POSITIVE, NEGATIVE)
    return canonical_dtypes(df)


def canonical_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """Give the course columns the dtypes `pd.read_csv` gives the original file."""
    out = df.copy()
    for column in (ID, *CATEGORICAL_FEATURES, TARGET):
        if column in out:
            out[column] = out[column].astype("str").where(out[column].notna())
            out[column] = out[column].astype("str")
    for column in NUMERIC_FEATURES:
        if column in out:
            out[column] = pd.to_numeric(out[column]).astype("float64")
    if "ApplicantIncome" in out and out["ApplicantIncome"].notna().all():
        out["ApplicantIncome"] = out["ApplicantIncome"].astype("int64")
    return out


def dataset_hash(df: pd.DataFrame) -> str:
    """A short, stable fingerprint of a table's content (for run tags and caches)."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error) or odd (warning) with an uploaded table."""

    code: str
    severity: str  # "error" | "warning"
    column: str | None = None
    params: dict = field(default_factory=dict)

    def message(self, lang: str) -> str:
        """The explanation of the problem in `lang`."""
        return translate(f"data.{self.code}", lang, column=self.column or "", **self.params)


@dataclass(frozen=True)
class LoadResult:
    """A validated table: `frame` is None when there are errors."""

    frame: pd.DataFrame | None
    problems: tuple[Problem, ...]
    has_target: bool = False

    @property
    def ok(self) -> bool:
        """True when the table can be used (warnings allowed)."""
        return self.frame is not None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The blocking problems."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The non-blocking remarks."""
        return tuple(p for p in self.problems if p.severity == "warning")


MAX_ROWS = 1_000_000
MAX_EXAMPLES = 3


def _examples(values: pd.Series) -> str:
    uniques = list(dict.fromkeys(str(v) for v in values))
    shown = ", ".join(repr(v) for v in uniques[:MAX_EXAMPLES])
    return shown + (", …" if len(uniques) > MAX_EXAMPLES else "")


def _rows(index: pd.Index) -> str:
    rows = [str(i + 2) for i in index[:MAX_EXAMPLES]]  # +2: header line and 1-based numbering
    return ", ".join(rows) + (", …" if len(index) > MAX_EXAMPLES else "")


def validate_loan_frame(raw: pd.DataFrame) -> LoadResult:
    """Check a table read as text against the course schema and convert it to canonical dtypes.

    Args:
        raw: a DataFrame read with `dtype=str` (so nothing is silently coerced).

    Returns:
        The canonical frame (or None) and every problem found, each explainable in both languages.
    """
    problems: list[Problem] = []
    raw = raw.rename(columns=lambda c: str(c).strip())
    if raw.empty:
        return LoadResult(None, (Problem("empty", "error"),))
    if len(raw) > MAX_ROWS:
        return LoadResult(None, (Problem("too_many_rows", "error", params={"n": len(raw), "max": MAX_ROWS}),))

    required = [ID, *FEATURES]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        problems.append(Problem("missing_columns", "error", params={"columns": ", ".join(missing)}))
        near = {c.casefold(): c for c in raw.columns}
        for col in missing:
            if col.casefold() in near:
                problems.append(Problem("case_mismatch", "error", col, {"found": near[col.casefold()]}))
    extra = [c for c in raw.columns if c not in COLUMNS]
    if extra:
        problems.append(Problem("extra_columns", "warning", params={"columns": ", ".join(extra)}))
    if missing:
        return LoadResult(None, tuple(problems))

    has_target = TARGET in raw.columns
    df = raw[[c for c in COLUMNS if c in raw.columns]].copy()
    for column in df.columns:
        df[column] = df[column].str.strip().replace("", np.nan)

    for column in NUMERIC_FEATURES:
        values = df[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values.notna() & numbers.isna()
        if bad.any():
            problems.append(
                Problem(
                    "not_numeric",
                    "error",
                    column,
                    {"examples": _examples(values[bad]), "rows": _rows(values.index[bad]), "n": int(bad.sum())},
                )
            )
            continue
        spec = LOAN_SCHEMA[column]
        assert spec.interval is not None  # a numeric column always has one
        out = numbers.notna() & ~spec.interval.contains(numbers)
        if spec.kind == "binary":
            out |= numbers.notna() & ~numbers.isin([0, 1])
        if out.any():
            problems.append(
                Problem(
                    "out_of_range",
                    "error",
                    column,
                    {
                        "examples": _examples(values[out]),
                        "rows": _rows(values.index[out]),
                        "interval": spec.interval,
                        "n": int(out.sum()),
                    },
                )
            )
        df[column] = numbers

    for column, allowed in CATEGORIES.items():
        values = df[column]
        # Files saved by spreadsheets sometimes write Dependents as 0.0, 1.0 ...
        if aliases := LOAN_SCHEMA[column].aliases:
            values = values.replace(dict(aliases))
            df[column] = values
        bad = values.notna() & ~values.isin(allowed)
        if bad.any():
            problems.append(
                Problem(
                    "unknown_category",
                    "error",
                    column,
                    {
                        "examples": _examples(values[bad]),
                        "allowed": ", ".join(allowed),
                        "rows": _rows(values.index[bad]),
                        "n": int(bad.sum()),
                    },
                )
            )

    if has_target:
        target = df[TARGET]
        bad = ~target.isin([POSITIVE, NEGATIVE])
        if bad.any():
            problems.append(
                Problem(
                    "bad_target",
                    "error",
                    TARGET,
                    {
                        "examples": _examples(target[bad].fillna("∅")),
                        "rows": _rows(target.index[bad]),
                        "n": int(bad.sum()),
                    },
                )
            )

    for column in FEATURES:
        if column not in NULLABLE and df[column].isna().any():
            problems.append(Problem("unexpected_missing", "warning", column, {"n": int(df[column].isna().sum())}))
    duplicated = df[ID].duplicated(keep="first") & df[ID].notna()
    if duplicated.any():
        problems.append(
            Problem(
                "duplicate_ids",
                "warning",
                ID,
                {"n": int(duplicated.sum()), "examples": _examples(df.loc[duplicated, ID])},
            )
        )

    if any(p.severity == "error" for p in problems):
        return LoadResult(None, tuple(problems), has_target)
    return LoadResult(canonical_dtypes(df), tuple(problems), has_target)


def read_loan_csv(source: str | Path | IO[bytes] | IO[str] | bytes) -> LoadResult:
    """Read and validate a loan CSV (a path, an uploaded file or raw bytes). Never unpickles anything.

    Returns:
        A LoadResult; unreadable files give an error problem instead of raising.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=True, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return LoadResult(None, (Problem("unreadable", "error", params={"reason": reason}),))
    return validate_loan_frame(raw)


def load_course_data(path: Path | None = None) -> pd.DataFrame:
    """The course dataset the labs use: `WORKBENCH_DATA` if set, else the shipped `data/loan.csv`.

    Raises:
        CourseDataError (a ValueError): the file fails validation or has no `Loan_Status` column (a lab needs
            labels); `str()` lists the problems in English, `message(lang)` in the learner's language.
    """
    result = read_loan_csv(path or get_settings().data_path)
    if not result.ok:
        raise CourseDataError("course_unusable", reasons=list(result.errors))
    if not result.has_target:
        raise CourseDataError("course_no_target")
    return result.frame


class CourseDataError(LocalizedError, ValueError):
    """The course data file cannot feed the labs (strings `data.course_*`)."""

    namespace = "data"


def split_features_target(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Features (the 11 model inputs) and the binary target (1 = approved)."""
    return df[list(FEATURES)], (df[TARGET] == POSITIVE).astype("int64")


def load_sklearn_dataset(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """A second dataset bundled with scikit-learn (no download): `breast_cancer` or `wine`.

    Raises:
        KeyError: unknown name.
    """
    from sklearn import datasets

    loaders = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}
    bunch = loaders[name](as_frame=True)
    return bunch.data, bunch.target


def summary_statistics(df: pd.DataFrame) -> dict[str, float]:
    """Headline numbers of a loan table: rows, approval rate, missing rates, income medians."""
    stats: dict[str, float] = {"rows": float(len(df))}
    if TARGET in df:
        stats["approval_rate"] = float((df[TARGET] == POSITIVE).mean())
    for column in MISSING_RATES:
        stats[f"missing_{column}"] = float(df[column].isna().mean())
    stats["median_ApplicantIncome"] = float(df["ApplicantIncome"].median())
    stats["median_LoanAmount"] = float(df["LoanAmount"].median())
    return stats


def compare_with_original(twin: pd.DataFrame, original: pd.DataFrame) -> str:
    """The twin next to an original loan table, as Markdown: headline statistics, then what separates the
    model families (cross-validated, `modeling.compare_families`)."""
    from workbench.core.modeling import compare_families

    stats = pd.DataFrame({"twin": summary_statistics(twin), "original": summary_statistics(original)})
    for name, df in (("twin", twin), ("original", original)):
        approved = df[TARGET] == POSITIVE
        for value in (0.0, 1.0):
            stats.loc[f"approval_Credit_History_{value:g}", name] = float(
                approved[df["Credit_History"] == value].mean()
            )
    lines = ["| Statistic | Twin | Original |", "|---|---|---|"]
    lines += [f"| {k} | {v['twin']:.4g} | {v['original']:.4g} |" for k, v in stats.iterrows()]
    columns = ("accuracy", "f1", "roc_auc", "gap_accuracy", "gap_roc_auc")
    profiles = {name: compare_families(df, n_repeats=1) for name, df in (("twin", twin), ("original", original))}
    lines += [
        "",
        "| Family | " + " | ".join(f"{c} (twin / original)" for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for family in profiles["twin"].index:
        cells = [f"{profiles['twin'].loc[family, c]:.3f} / {profiles['original'].loc[family, c]:.3f}" for c in columns]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: regenerate the shipped twin, e.g. `python -m workbench.core.data --rows 614 --seed 146`, or
    compare it with an original file: `python -m workbench.core.data --compare ../shared/datasets/loan-course/train.csv`."""
    import argparse

    parser = argparse.ArgumentParser(description="Generate the synthetic twin of the course's loan data.")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=get_settings().repo_root / "data" / "loan.csv")
    parser.add_argument("--compare", type=Path, help="an original loan CSV (with Loan_Status): print a comparison")
    args = parser.parse_args(argv)
    df = generate_loan_data(args.rows, args.seed)
    if args.compare is not None:
        original = read_loan_csv(args.compare)
        if not original.ok or not original.has_target:
            parser.error(f"{args.compare} is not a loan table with Loan_Status")
        print(compare_with_original(df, original.frame))
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False, float_format="%.10g")
    print(f"wrote {len(df)} rows to {args.out} (approval rate {(df[TARGET] == POSITIVE).mean():.1%})")


if __name__ == "__main__":
    main()
