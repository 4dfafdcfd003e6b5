"""The loan application, defined once for the app: columns, types, allowed categories, ranges.

The CSV validator (`core.data.validate_loan_frame`), the prediction API's request body
(`api.schemas.LoanApplication`) and the security chapter's input checks (`application_problems`) all derive
from `LOAN_SCHEMA`. The example package of chapter IV (`examples/loan_model_package`) keeps its own copy on
purpose, since a package must stand on its own; `tests/unit/test_loan_schema.py` checks that the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from workbench.core.formatting import number_auto
from workbench.core.i18n import translate

ID = "Loan_ID"
TARGET = "Loan_Status"
POSITIVE = "Y"
NEGATIVE = "N"

Kind = Literal["category", "number", "binary"]


@dataclass(frozen=True)
class Interval:
    """The accepted values of a number: `[low, high]`, or `]low, high]` when `low_open`."""

    low: float
    high: float
    low_open: bool = False

    def contains(self, values: np.ndarray | float) -> np.ndarray | bool:
        """True where a value lies inside the interval (element-wise for arrays and Series)."""
        above = values > self.low if self.low_open else values >= self.low
        return above & (values <= self.high)

    def whole_range(self) -> tuple[int, int]:
        """The smallest and largest whole numbers inside (what labs draw and clip to)."""
        low = math.floor(self.low) + 1 if self.low_open else math.ceil(self.low)
        return low, math.floor(self.high)

    def message(self, lang: str) -> str:
        """The interval written the way `lang` writes it: `[0 ; 600]`, `]0 ; 600]` or `(0, 600]`."""
        key = "data.interval_open_low" if self.low_open else "data.interval"
        return translate(key, lang, low=number_auto(self.low, lang), high=number_auto(self.high, lang))


@dataclass(frozen=True)
class Column:
    """One input of a loan application."""

    name: str
    kind: Kind
    nullable: bool  # the course data has missing values there (the models impute them)
    categories: tuple[str, ...] = ()  # kind "category": the allowed values
    interval: Interval | None = None  # kind "number" or "binary": the accepted range
    description: str = ""  # shown in the API's OpenAPI page
    #: (other spelling, category) pairs a reader accepts (spreadsheets write Dependents as 0.0 or 3)
    aliases: tuple[tuple[str, str], ...] = ()

    def problems(self, value: object) -> list[tuple[str, dict]]:
        """What is wrong with one present value, as `(code, params)`: `category`, `not_number`, `range`, `binary`.

        Empty when the value is valid; a missing value (None, NaN) is the caller's business (`nullable`).
        """
        if self.kind == "category":
            if str(value) in self.categories:
                return []
            return [("category", {"value": repr(value), "allowed": ", ".join(self.categories)})]
        try:
            number = float(value)  # type: ignore[arg-type]  # anything float() accepts
        except (TypeError, ValueError):
            return [("not_number", {"value": repr(value)})]
        assert self.interval is not None  # numbers always have one (checked by the schema test)
        found: list[tuple[str, dict]] = []
        if not self.interval.contains(number):
            found.append(("range", {"number": number, "interval": self.interval}))
        if self.kind == "binary" and number not in (0.0, 1.0):
            found.append(("binary", {"number": number}))
        return found


def _category(
    name: str,
    values: tuple[str, ...],
    nullable: bool = True,
    description: str = "",
    aliases: tuple[tuple[str, str], ...] = (),
) -> Column:
    return Column(name, "category", nullable, categories=values, description=description, aliases=aliases)


def _number(name: str, interval: Interval, nullable: bool, description: str, kind: Kind = "number") -> Column:
    return Column(name, kind, nullable, interval=interval, description=description)


#: The 11 model inputs, in the order of the course's CSV files.
LOAN_SCHEMA: Mapping[str, Column] = MappingProxyType(
    {
        c.name: c
        for c in (
            _category("Gender", ("Male", "Female")),
            _category("Married", ("Yes", "No")),
            _category(
                "Dependents",
                ("0", "1", "2", "3+"),
                description='"0", "1", "2" or "3+"',
                aliases=(("0.0", "0"), ("1.0", "1"), ("2.0", "2"), ("3", "3+")),
            ),
            _category("Education", ("Graduate", "Not Graduate"), nullable=False),
            _category("Self_Employed", ("Yes", "No")),
            _number("ApplicantIncome", Interval(0, 1_000_000), False, "Monthly income of the applicant"),
            _number(
                "CoapplicantIncome", Interval(0, 1_000_000), False, "Monthly income of the co-applicant (0 if none)"
            ),
            _number("LoanAmount", Interval(0, 10_000, low_open=True), True, "Amount in thousands"),
            _number("Loan_Amount_Term", Interval(0, 600, low_open=True), True, "Term in months"),
            _number("Credit_History", Interval(0, 1), True, "1 if the credit history meets guidelines", "binary"),
            _category("Property_Area", ("Urban", "Semiurban", "Rural"), nullable=False),
        )
    }
)

FEATURES: tuple[str, ...] = tuple(LOAN_SCHEMA)
COLUMNS: tuple[str, ...] = (ID, *FEATURES, TARGET)
CATEGORIES: dict[str, tuple[str, ...]] = {c.name: c.categories for c in LOAN_SCHEMA.values() if c.kind == "category"}
#: numeric column → the whole-unit (minimum, maximum) inside its interval: what labs draw and clip to
#: (currency per month, LoanAmount in thousands, Loan_Amount_Term in months, Credit_History 0/1).
NUMERIC_RANGES: dict[str, tuple[float, float]] = {
    c.name: c.interval.whole_range() for c in LOAN_SCHEMA.values() if c.interval is not None
}
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(CATEGORIES)
NUMERIC_FEATURES: tuple[str, ...] = tuple(NUMERIC_RANGES)
#: columns where the course data has missing values (so nulls are legitimate there)
NULLABLE: tuple[str, ...] = tuple(c.name for c in LOAN_SCHEMA.values() if c.nullable)
