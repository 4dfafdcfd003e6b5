"""i18n: every UI key exists in both languages; formatting and fallbacks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from workbench.i18n import load_strings, missing_translations, pick, translate

from tests.conftest import REPO_ROOT

KEY_CALL = re.compile(r"""\bt(?:ranslate)?\(\s*f?["']([a-z_0-9]+\.[a-z_0-9{}.]+)["']""")


def test_every_key_has_both_languages() -> None:
    assert missing_translations() == []


def test_placeholders_are_the_same_in_both_languages() -> None:
    field = re.compile(r"{(\w+)[^}]*}")
    for key, texts in load_strings().items():
        assert set(field.findall(texts["fr"])) == set(field.findall(texts["en"])), key


def _used_keys() -> set[str]:
    keys = set()
    for path in list((REPO_ROOT / "app").rglob("*.py")) + list((REPO_ROOT / "pages").glob("*.py")):
        for match in KEY_CALL.finditer(path.read_text(encoding="utf-8")):
            keys.add(match.group(1))
    return keys


def test_every_key_used_in_code_exists() -> None:
    strings = load_strings()
    missing = []
    for key in _used_keys():
        if "{" in key:  # f-string keys: check the static prefix has at least one match
            prefix = key.split("{", 1)[0]
            if not any(k.startswith(prefix) for k in strings):
                missing.append(key)
        elif key not in strings:
            missing.append(key)
    assert missing == []


def test_translate_formats_and_falls_back() -> None:
    assert translate("home.continue", "en", roman="V") == "Continue with chapter V"
    assert translate("home.continue", "fr", roman="V") == "Reprendre au chapitre V"
    assert translate("home.continue", "de", roman="V") == "Reprendre au chapitre V"
    assert translate("no.such_key", "en") == "no.such_key"


def test_pick() -> None:
    assert pick({"fr": "oui", "en": "yes"}, "en") == "yes"
    assert pick({"fr": "oui"}, "en") == "oui"
    assert pick("plain", "en") == "plain"


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_have_no_hard_coded_user_text(path: Path) -> None:
    """User-visible text goes through t(): no string literal passed straight to st.* display calls."""
    display = {
        "title",
        "header",
        "subheader",
        "markdown",
        "write",
        "caption",
        "button",
        "info",
        "success",
        "warning",
        "error",
        "text",
        "tabs",
        "expander",
    }
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offenders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in display:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.strip():
                    offenders.append(f"line {node.lineno}: {arg.value[:40]!r}")
    assert offenders == []


def test_localized_error_speaks_both_languages() -> None:
    from workbench.i18n import LocalizedError

    class DataError(LocalizedError, ValueError):
        namespace = "data"

    error = DataError("extra_columns", columns="Score")
    assert str(error) == "Extra columns, ignored: Score."
    assert error.message("fr") == "Colonnes en trop, ignorées : Score."
    assert isinstance(error, ValueError) and error.key == "extra_columns"
