"""CSV files of loan applications, read and written safely (the API's batch endpoint, chapter VII).

Reading: the delimiter is detected (`,`, or `;` as French Excel writes it, with decimal commas), a NUL byte
is refused instead of silently cutting a cell, and every cell stays text for the validation that follows.
Writing: a cell that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) is prefixed with `'`, so a downloaded file cannot carry formula injection.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pandas as pd

from workbench.core.data import NUMERIC_FEATURES

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d{1,3}([ \u00a0\u202f]?\d{3})*(,\d+)?\s*$|^\s*[+-]?\d+(,\d+)?\s*$")


class CsvError(ValueError):
    """A CSV file that cannot be read as a table of applications (`kind`: nul, delimiter, parse)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class CsvTable:
    """A CSV file read as text cells, and how it was written."""

    frame: pd.DataFrame  # every cell a str, or None when empty
    delimiter: str
    decimal_comma: bool


def sniff_delimiter(text: str) -> str:
    """`,`, `;` or a tab: the one the header line uses most (`,` when in doubt)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in ",;\t"}
        return max(counts, key=lambda d: (counts[d], d == ","))


def read_applications_csv(text: str) -> CsvTable:
    """Parse a CSV file's text into text cells, column names stripped.

    With `;` as delimiter, numbers are read the French way: `128,5` → `128.5`, `5 849` → `5849`.

    Raises:
        CsvError: a NUL byte (the line is named), or a file pandas cannot parse.
    """
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvError("nul", f"line {line} contains a NUL byte (\\0): the file is binary or corrupted")
    delimiter = sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=True, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise CsvError("parse", f"not a readable CSV file: {str(exc).splitlines()[0][:200]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    decimal_comma = delimiter == ";"
    if decimal_comma:
        for column in (c for c in NUMERIC_FEATURES if c in frame.columns):
            frame[column] = frame[column].map(_french_number)
    frame = frame.astype(object)
    return CsvTable(frame.where(frame.notna(), None), delimiter, decimal_comma)


def _french_number(value):
    """`128,5` → `128.5` and `5 849` → `5849`; anything else unchanged (validation will name it)."""
    if not isinstance(value, str) or not _DECIMAL_COMMA.match(value):
        return value
    return re.sub(r"[ \u00a0\u202f]", "", value).replace(",", ".").strip()


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where text cells starting like a spreadsheet formula are prefixed with `'` (numbers untouched)."""

    def safe(value):
        if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
            return "'" + value
        return value

    return frame.apply(lambda column: column if pd.api.types.is_numeric_dtype(column) else column.map(safe))


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV for a download, safe to open in a spreadsheet."""
    return escape_formulas(frame).to_csv(index=False).encode("utf-8")
