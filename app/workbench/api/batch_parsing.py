"""Batch bodies of `/predict/batch` → validated applications, or errors naming the line, column or field.

Pure: no FastAPI, no HTTP. A JSON list (bytes) or CSV text (a file saved by Excel in French included: `;`
separator, decimal commas) becomes a list of `LoanApplication`s; anything wrong raises `BatchError`, whose
`errors` are validation errors in FastAPI's shape (`loc`, `type`, `msg`, `input`), located from `"body"`:
`["body", 3, "ApplicantIncome"]` for a JSON item, `["body", "line 4", "ApplicantIncome"]` for a CSV row
(numbered like a spreadsheet, the header being line 1), `["body", "Gender"]` for a CSV column.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from workbench.api.schemas import LoanApplication

BATCH = TypeAdapter(list[LoanApplication])


class BatchError(ValueError):
    """A batch that cannot be scored; `errors` says where and why (validation errors, located from `body`)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


def body_error(kind: str, msg: str, *where: str | int) -> dict[str, Any]:
    """One validation error located at `body` (then `where`), with no input echoed."""
    return {"loc": ["body", *where], "type": kind, "input": None, "msg": msg}


def parse_json_batch(body: bytes, max_batch: int) -> list[LoanApplication]:
    """A JSON list of applications, validated item by item (locations `["body", index, field]`)."""
    try:
        applications = BATCH.validate_json(body)
    except ValidationError as exc:
        raise BatchError([{**e, "loc": ["body", *e["loc"]]} for e in exc.errors(include_url=False)]) from None
    check_size(len(applications), max_batch)
    return applications


def decode_csv(raw: bytes) -> str:
    """The text of an uploaded CSV file (UTF-8, with or without Excel's byte-order mark)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BatchError([body_error("encoding", "the CSV file must be UTF-8 text")]) from None


def parse_csv_batch(text: str, max_batch: int) -> list[LoanApplication]:
    """CSV text with the course's columns (Loan_ID and Loan_Status optional, ignored by the model)."""
    from workbench.core.csv_tables import CsvError, read_applications_csv
    from workbench.core.data import FEATURES, ID, TARGET

    try:
        table = read_applications_csv(text)
    except CsvError as exc:
        raise BatchError([body_error(f"csv_{exc.kind}", str(exc))]) from None
    frame = table.frame
    missing = [c for c in FEATURES if c not in frame.columns]
    extra = [c for c in frame.columns if c not in (*FEATURES, ID, TARGET)]
    if len(missing) == len(FEATURES):  # not one expected column: say what was found instead of 11 errors
        raise BatchError(
            [
                body_error(
                    "csv_columns",
                    f"none of the expected columns ({', '.join(FEATURES)}) was found; "
                    f"the header read with the separator {table.delimiter!r} gives: "
                    f"{', '.join(map(str, frame.columns))[:300]}",
                )
            ]
        )
    if missing or extra:
        errors = [body_error("missing", "column missing from the CSV", c) for c in missing]
        errors += [body_error("extra_forbidden", "unknown column", c) for c in extra]
        raise BatchError(errors)
    if len(frame) > max_batch:
        raise BatchError([body_error("too_long", f"at most {max_batch} rows per batch, got {len(frame)}")])
    columns = [c for c in (ID, *FEATURES) if c in frame.columns]
    try:
        applications = BATCH.validate_python(frame[columns].to_dict("records"))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:  # loc (row, field) → ("body", "line 3", field), rows numbered like a spreadsheet
            loc = list(error["loc"])
            if loc and isinstance(loc[0], int):
                loc[0] = f"line {loc[0] + 2}"
            error["loc"] = ["body", *loc]
        raise BatchError(errors) from None
    check_size(len(applications), max_batch)
    return applications


def check_size(count: int, max_batch: int) -> None:
    """A batch holds 1 to `max_batch` applications."""
    if count > max_batch:
        raise BatchError([body_error("too_long", f"at most {max_batch} applications per batch, got {count}")])
    if not count:
        raise BatchError([body_error("too_short", "the batch is empty")])
