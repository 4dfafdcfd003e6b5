"""Numbers, percentages, durations and dates written the way each language writes them.

One place for the whole workbench (translations, metrics, tables, figures, inputs), built on Babel's CLDR data:

    number(0.8512, "fr", 2)   → "0,85"            number(0.8512, "en", 2)   → "0.85"
    percent(0.772, "fr")      → "77,2 %"          percent(0.772, "en")      → "77.2%"
    points(0.023, "fr")       → "+2,3 pts"        (a difference of two percentages: percentage points)
    seconds(0.21, "fr")       → "0,21 s"          integer(1234, "fr")       → "1 234"
    date(date(2026, 12, 2), "fr") → "2 décembre 2026"

French puts a (narrow) no-break space between thousands and before `%` and units, so a number never wraps.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from functools import lru_cache
from numbers import Integral, Number
from typing import TYPE_CHECKING, cast

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    format_percent,
    parse_decimal,
    parse_pattern,
)
from babel.units import format_unit

if TYPE_CHECKING:
    from typing_extensions import TypeIs

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
MISSING = "—"
#: Percentage points after a number, by CLDR plural category (French: "1,5 pt", "2 pts").
POINTS = {"fr": {"one": "pt", "other": "pts"}, "en": {"one": "pt", "other": "pts"}}
_SPEC = re.compile(r"^(?P<sign>[+\- ]?)(?P<group>,?)(?:\.(?P<precision>\d+))?(?P<type>[fF%eEgGd]|pp)?$")


@lru_cache(maxsize=8)
def locale(lang: str) -> Locale:
    """The Babel locale of a workbench language (`fr`, `en`; anything else falls back to French)."""
    try:
        return Locale.parse(lang)
    except (ValueError, TypeError):
        return Locale.parse("fr")


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    """A Babel number pattern parsed once (formatting a table cell then costs a third of `format_decimal`)."""
    return parse_pattern(pattern)


def _decimal(value: float | int, pattern: str, lang: str) -> str:
    return _compiled(pattern).apply(value, locale(lang))


def _missing(value: object) -> TypeIs[None]:
    """True for None and NaN (the table cells and metrics that have no value); narrows the rest for the checker."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pattern(digits: int, sign: bool, grouping: bool = True) -> str:
    body = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits > 0 else "")
    return f"+{body};-{body}" if sign else body


def number(value: float | int | None, lang: str, digits: int = 2, *, sign: bool = False, grouping: bool = True) -> str:
    """`value` with exactly `digits` decimals, the language's separators, `+` in front when `sign`."""
    if _missing(value):
        return MISSING
    if isinstance(value, float) and math.isinf(value):
        return ("-" if value < 0 else "+" if sign else "") + "∞"
    return _decimal(value + 0, _pattern(digits, sign, grouping), lang)  # + 0: no "-0"


def number_auto(value: float | int | None, lang: str, max_digits: int = 4, *, grouping: bool = True) -> str:
    """`value` with at most `max_digits` decimals, trailing zeros dropped (`0,85`, `12`, `0,0001`)."""
    if _missing(value):
        return MISSING
    body = ("#,##0" if grouping else "0") + ("." + "#" * max_digits if max_digits > 0 else "")
    return _decimal(value + 0, body, lang)


def integer(value: float | int | None, lang: str, *, sign: bool = False) -> str:
    """A whole number with the language's thousands separator (`1 234`, `1,234`)."""
    return number(value, lang, 0, sign=sign)


def percent(value: float | None, lang: str, digits: int = 1, *, sign: bool = False) -> str:
    """A fraction as a percentage: 0.772 → `77,2 %` (fr), `77.2%` (en)."""
    if _missing(value):
        return MISSING
    base = locale(lang).percent_formats[None].pattern  # fr "#,##0 %", en "#,##0%"
    body = base.replace("#,##0", _pattern(digits, False), 1)
    pattern = f"+{body};-{body}" if sign else body
    return format_percent(value, pattern, locale=locale(lang))


def points(value: float | None, lang: str, digits: int = 1, *, sign: bool = True) -> str:
    """A difference of two fractions in percentage points: 0.023 → `+2,3 pts` (never `+2,3 %`)."""
    if _missing(value):
        return MISSING
    shown = number(100 * value, lang, digits, sign=sign)
    amount = abs(Decimal(format_decimal(100 * value, _pattern(digits, False, False), locale="en")))
    unit = POINTS.get(lang, POINTS["fr"])[plural_category(amount, lang)]
    return f"{shown}{NBSP}{unit}"


def dollars(value: float | None, lang: str, digits: int = 2) -> str:
    """An amount in US dollars: `3,16 $US` (fr), `$3.16` (en)."""
    if _missing(value):
        return MISSING
    return format_currency(
        value,
        "USD",
        locale=locale(lang),
        format_type="standard",
        currency_digits=digits == 2,
        format=None if digits == 2 else f"#,##0.{'0' * digits} ¤",
    )


def seconds(value: float | None, lang: str, digits: int = 2) -> str:
    """A duration in seconds: `0,21 s`."""
    return MISSING if _missing(value) else f"{number(value, lang, digits)}{NBSP}s"


def milliseconds(value: float | None, lang: str, digits: int = 0) -> str:
    """A duration already in milliseconds: `12,5 ms`."""
    return MISSING if _missing(value) else f"{number(value, lang, digits)}{NBSP}ms"


def kilobytes(n_bytes: float | None, lang: str, digits: int = 1) -> str:
    """A size in kilobytes (1 ko = 1024 octets): `12,3 ko`, `12.3 kB`."""
    if _missing(n_bytes):
        return MISSING
    return format_unit(
        n_bytes / 1024, "digital-kilobyte", length="short", format=_pattern(digits, False), locale=locale(lang)
    )


def date(value: dt.date | dt.datetime | str | None, lang: str) -> str:
    """A date in words: `2 décembre 2026`, `December 2, 2026` (ISO strings are accepted)."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return format_date(value, "long", locale=locale(lang))


def date_time(value: dt.datetime | str | float | None, lang: str, *, short: bool = False) -> str:
    """A date and time of day: `2 décembre 2026 à 14:03`, `December 2, 2026, 2:03 PM`.

    `short` (tables): `2 déc. 2026 14:03`, `Dec 2, 2026 2:03 PM`. Accepts a datetime (pandas' too), an ISO
    string or a Unix timestamp (seconds, local time).
    """
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)) or str(value) == "NaT":
        return MISSING
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    elif isinstance(value, Number):
        value = dt.datetime.fromtimestamp(float(value))  # type: ignore[arg-type]  # a Number is a real here
    when = cast(dt.datetime, value)
    time = format_time(when, "short", locale=locale(lang))
    if short:
        return f"{format_skeleton('yMMMd', when, locale=locale(lang))} {time}"
    day = format_date(when, "long", locale=locale(lang))
    return f"{day} à {time}" if lang == "fr" else f"{day}, {time}"


def plural_category(count: float | int | Decimal, lang: str) -> str:
    """The CLDR plural category of `count` in `lang` (`one`, `other`, …): French says "1,5 run", "0 run"."""
    return locale(lang).plural_form(cast(Decimal, abs(count)))


def format_value(value: object, spec: str, lang: str) -> str:
    """Format `value` like `format(value, spec)`, written the way `lang` writes numbers.

    Understands the specs the strings use: `.2f`, `+.3f`, `.1%`, `+.1%`, `.0f`, `,d`, `.2e`, `.3g`, `g`, and
    `pp` for percentage points (`{gap:+.1pp}` → `+2,3 pts`). Anything else, or a non-number, is left to Python.
    """
    match = _SPEC.match(spec)
    if isinstance(value, bool) or not isinstance(value, Number) or match is None:
        return format(value, spec) if spec else str(value)
    value = int(value) if isinstance(value, Integral) else float(value)  # type: ignore[arg-type]  # a real
    kind, sign = match["type"] or "", match["sign"] == "+"
    precision = int(match["precision"]) if match["precision"] is not None else None
    if kind == "%":
        return percent(value, lang, 6 if precision is None else precision, sign=sign)
    if kind == "pp":
        return points(value, lang, 1 if precision is None else precision, sign=sign or not match["sign"])
    if kind in ("f", "F"):
        return number(value, lang, 6 if precision is None else precision, sign=sign)
    if kind == "d" or (kind == "" and isinstance(value, int)):
        return number(value, lang, 0, sign=sign, grouping=bool(match["group"]))
    return localize_digits(format(value, spec), lang)  # e, g and plain floats: Python's digits, the language's marks


def localize_digits(text: str, lang: str) -> str:
    """Python-formatted digits (`1,234.5`, `1.5e-05`) with the language's separators (`1 234,5`, `1,5e-05`)."""
    symbols = locale(lang).number_symbols["latn"]
    return "".join({",": symbols["group"], ".": symbols["decimal"]}.get(c, c) for c in text)


def parse_number(text: str, lang: str) -> float:
    """The number a learner typed, written the way `lang` writes it (`75,1` in French, `75.1` in English).

    Spaces (thousands) are ignored; in French a dot is accepted as the decimal mark too.

    Raises:
        ValueError: the text is not one number (empty, letters, `7,5,1`, `75,1` in English).
    """
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", str(text)).replace("\u2212", "-")
    if not cleaned or not re.fullmatch(r"[+-]?[\d.,]+", cleaned):
        raise ValueError(f"not a number: {text!r}")
    if lang == "fr" and "." in cleaned and "," not in cleaned and cleaned.count(".") == 1:
        cleaned = cleaned.replace(".", ",")
    try:
        value = parse_decimal(cleaned.lstrip("+"), locale=locale(lang), strict=True)
    except NumberFormatError as exc:
        raise ValueError(f"not a number in {lang}: {text!r}") from exc
    return float(value)


def plotly_separators(lang: str) -> str:
    """Plotly's `layout.separators` (decimal mark, then thousands separator) for `lang`."""
    symbols = locale(lang).number_symbols["latn"]
    return symbols["decimal"] + symbols["group"]


def localize_figure(fig, lang: str):
    """Set the figure's number separators to the language's (ticks, hover labels); returns the figure."""
    fig.update_layout(separators=plotly_separators(lang))
    return fig


def percent_axis(
    low: float, high: float, lang: str, digits: int = 0, ticks: int = 6, *, as_points: bool = False
) -> dict:
    """Axis settings that label fractions as percentages the language's way (`70 %`, not d3's `70%`).

    Use as `fig.update_yaxes(**percent_axis(0.6, 0.9, "fr"))`; hover labels keep one decimal. With `as_points`,
    the values are differences of two percentages, labelled in percentage points (`+2 pts`).
    """
    span = max(high - low, 1e-9)
    step = next(
        (s for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0) if span / s <= ticks), 1.0
    )
    first = math.floor(low / step) * step
    values = [round(first + i * step, 10) for i in range(int(math.ceil((high - first) / step)) + 1)]
    places = max(digits, 0 if step >= 0.01 else 1)
    label = (lambda v: points(v, lang, places)) if as_points else (lambda v: percent(v, lang, places))
    return {"tickmode": "array", "tickvals": values, "ticktext": [label(v) for v in values], "hoverformat": ".1%"}


def table_format(kind: str, lang: str, digits: int | None = None):
    """A cell formatter for `pandas.Styler.format`: `number`, `integer`, `percent`, `points`, `seconds`, `ms`."""
    functions = {
        "number": lambda v: number(v, lang, 3 if digits is None else digits),
        "integer": lambda v: integer(v, lang),
        "percent": lambda v: percent(v, lang, 1 if digits is None else digits),
        "points": lambda v: points(v, lang, 1 if digits is None else digits),
        "seconds": lambda v: seconds(v, lang, 2 if digits is None else digits),
        "ms": lambda v: milliseconds(v, lang, 1 if digits is None else digits),
    }
    return functions[kind]
