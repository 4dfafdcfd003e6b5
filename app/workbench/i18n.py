"""User-visible strings in French and English.

Strings live in `app/workbench/strings/<namespace>.yaml`, each key holding both languages side by
side, so a missing translation is visible in review and caught by the tests::

    # strings/home.yaml
    continue:
      fr: "Reprendre : {chapter}"
      en: "Continue: {chapter}"

`translate("home.continue", "en", chapter="V")` → "Continue: V".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from workbench.settings import LANGUAGES

STRINGS_DIR = Path(__file__).with_name("strings")


@lru_cache(maxsize=1)
def load_strings() -> dict[str, dict[str, str]]:
    """All strings, keyed `namespace.key` → {lang: text}."""
    table: dict[str, dict[str, str]] = {}
    for path in sorted(STRINGS_DIR.glob("*.yaml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, texts in entries.items():
            table[f"{path.stem}.{key}"] = {lang: str(text) for lang, text in texts.items()}
    return table


def translate(key: str, lang: str, /, **values: object) -> str:
    """The text of `key` in `lang`, formatted with `values`.

    Falls back to French, then to the key itself, so a missing string never breaks a page
    (the i18n tests make sure none is missing).
    """
    texts = load_strings().get(key)
    if texts is None:
        return key
    text = texts.get(lang) or texts.get("fr") or key
    return text.format(**values) if values else text


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
        if not str(texts.get(lang, "")).strip()
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
