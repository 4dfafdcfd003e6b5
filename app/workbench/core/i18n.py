"""User-visible strings in French and English.

Strings live in `app/workbench/strings/<namespace>.yaml` (a chapter's in `strings/chNN_slug/<namespace>.yaml`),
each key holding both languages side by
side, so a missing translation is visible in review and caught by the tests::

    # strings/home.yaml
    continue:
      fr: "Reprendre : {chapter}"
      en: "Continue: {chapter}"

`translate("home.continue", "en", chapter="V")` → "Continue: V".

Values are written the language's way: a placeholder with a format spec (`{f1:.2f}`, `{share:.1%}`,
`{gap:+.1pp}` for percentage points) gives `0,85` and `77,2 %` in French (see `workbench.core.formatting`).
A text that depends on a count has one form per CLDR plural category, chosen by the value of `{n}` (plus an
optional `zero` form, used for 0 whatever the language's rule)::

    compare:
      fr: {one: "Comparer {n} run", other: "Comparer les {n} runs"}
      en: {one: "Compare {n} run", other: "Compare the {n} runs"}

and French elides before a vowel what a value brings: "de {name}" with Alice → "d'Alice".
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import cast

import yaml

from workbench.core.formatting import format_value, plural_category
from workbench.core.settings import LANGUAGES

#: A bilingual text: one string, or one string per plural category (`one`, `other`, …).
Text = str | dict[str, str]
#: French words that drop their vowel before a word starting with a vowel or a mute h ("de" → "d'").
_ELIDED = re.compile(
    r"(?<![\w'’])(de|que|le|la|je|me|te|se|ne|jusque|lorsque|puisque) (?P<markup>[*_]*)$", re.IGNORECASE
)
_VOWEL = re.compile(r"[aeiouyhàâäéèêëîïôöùûüœæ]", re.IGNORECASE)

STRINGS_DIR = Path(__file__).resolve().parents[1] / "strings"


@lru_cache(maxsize=1)
def load_strings() -> dict[str, dict[str, Text]]:
    """All strings, keyed `namespace.key` → {lang: text or {plural category: text}}."""
    table: dict[str, dict[str, Text]] = {}
    for path in sorted(STRINGS_DIR.rglob("*.yaml")):  # shared ones, then strings/chNN_slug/*.yaml
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, texts in entries.items():
            table[f"{path.stem}.{key}"] = {
                lang: {form: str(t) for form, t in text.items()} if isinstance(text, dict) else str(text)
                for lang, text in texts.items()
            }
    return table


def forms(text: Text) -> list[str]:
    """Every form of a text (one string, or its plural forms)."""
    return list(text.values()) if isinstance(text, dict) else [text]


def _explains(value: object) -> bool:
    """Whether `value` explains itself in a language (`LocalizedError`, `data.Problem`: `message(lang)`)."""
    return not isinstance(value, type) and callable(getattr(value, "message", None))


class _Formatter(string.Formatter):
    """`str.format` that writes numbers the way `lang` does and elides French before a vowel."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        if _explains(value):  # an error or problem inside a message: explained in the same language
            value = value.message(self.lang)  # type: ignore[attr-defined]  # _explains checked it
        elif isinstance(value, list | tuple) and value and all(_explains(v) for v in value):
            value = "; ".join(v.message(self.lang) for v in value)
        return format_value(value, format_spec, self.lang)

    def vformat(self, format_string: str, args, kwargs) -> str:
        out: list[str] = []
        for literal, field, spec, conversion in self.parse(format_string):
            out.append(literal)
            if field is None:
                continue
            value, _ = self.get_field(field, args, kwargs)
            text = self.format_field(self.convert_field(value, conversion), spec or "")
            if self.lang == "fr" and isinstance(value, str) and _VOWEL.match(text):
                before = "".join(out)
                if elided := _ELIDED.search(before):  # "de **Alice" → "d'**Alice"
                    out = [before[: elided.end(1) - 1] + "'" + elided["markup"]]
            out.append(text)
        return "".join(out)


def translate(key: str, lang: str, /, **values: object) -> str:
    """The text of `key` in `lang`, formatted with `values` the way `lang` writes them.

    Falls back to French, then to the key itself, so a missing string never breaks a page
    (the i18n tests make sure none is missing).
    """
    texts = load_strings().get(key)
    if texts is None:
        return key
    text = texts.get(lang) or texts.get("fr") or key
    if isinstance(text, dict):
        count = cast(float, values.get("n", values.get("count", 0)))
        form = "zero" if count == 0 and "zero" in text else plural_category(count, lang)  # "zero": nothing chosen
        text = text.get(form) or text.get("other") or next(iter(text.values()))
    return _Formatter(lang).format(text, **values) if values else text


def pick(texts: dict[str, str] | str, lang: str) -> str:
    """Choose one language from a bilingual `{fr: ..., en: ...}` mapping (lessons, exercises)."""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("fr") or next(iter(texts.values()), "")


def missing_translations() -> list[str]:
    """Keys that lack one of the supported languages (empty when all is well)."""
    return [
        f"{key} [{lang}]"
        for key, texts in load_strings().items()
        for lang in LANGUAGES
        if not all(f.strip() for f in forms(texts.get(lang, "")))
        or (isinstance(texts.get(lang), dict) and "other" not in texts[lang])
    ]


class LocalizedError(Exception):
    """An error a learner reads: its text is the string `<namespace>.<key>` in both languages.

    Subclasses set `namespace`; `str(error)` is the English text (for logs), `message(lang)` the learner's.
    """

    namespace = ""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(translate(f"{self.namespace}.{key}", "en", **params))
        self.key = key
        self.params = params

    def message(self, lang: str) -> str:
        """The explanation in `lang`."""
        return translate(f"{self.namespace}.{self.key}", lang, **self.params)
