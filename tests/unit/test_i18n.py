"""i18n: every UI key exists in both languages; formatting and fallbacks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from workbench.core.i18n import forms, load_strings, missing_translations, pick, translate

from tests.conftest import REPO_ROOT

KEY_CALL = re.compile(r"""\bt(?:ranslate)?\(\s*f?["']([a-z_0-9]+\.[a-z_0-9{}.]+)["']""")


def test_every_key_has_both_languages() -> None:
    assert missing_translations() == []


def test_placeholders_are_the_same_in_both_languages() -> None:
    field = re.compile(r"{(\w+)[^}]*}")
    for key, texts in load_strings().items():
        fr = {f for text in forms(texts["fr"]) for f in field.findall(text)}
        en = {f for text in forms(texts["en"]) for f in field.findall(text)}
        assert fr == en, key


def test_plural_texts_count_with_n_and_have_an_other_form() -> None:
    for key, texts in load_strings().items():
        for lang, text in texts.items():
            if isinstance(text, dict):
                assert "other" in text and set(text) <= {"zero", "one", "two", "few", "many", "other"}, key
                counted = [form for name, form in text.items() if name not in ("zero", "one")]
                assert all("{n" in form for form in counted), (key, lang)


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
    from workbench.core.i18n import LocalizedError

    class DataError(LocalizedError, ValueError):
        namespace = "data"

    error = DataError("extra_columns", columns="Score")
    assert str(error) == "Extra columns, ignored: Score."
    assert error.message("fr") == "Colonnes en trop, ignorées : Score."
    assert isinstance(error, ValueError) and error.key == "extra_columns"


def test_numbers_in_a_text_are_written_the_language_s_way() -> None:
    text = "F1 {f1:.2f}, {share:.1%} approved ({gap:+.1pp}), {rows:,} rows, port {port}, eps {eps}"
    values = {"f1": 0.8512, "share": 0.772, "gap": 0.023, "rows": 12345, "port": 8000, "eps": 0.05}
    from workbench.core.i18n import _Formatter

    assert _Formatter("fr").format(text, **values) == (
        "F1 0,85, 77,2\u00a0% approved (+2,3\u00a0pts), 12\u202f345 rows, port 8000, eps 0,05"
    )
    assert _Formatter("en").format(text, **values) == (
        "F1 0.85, 77.2% approved (+2.3\u00a0pts), 12,345 rows, port 8000, eps 0.05"
    )


@pytest.mark.parametrize(
    "n, fr, en",
    [
        (0, "Comparer 0 run", "Compare the 0 runs"),
        (1, "Comparer 1 run", "Compare 1 run"),
        (2, "Comparer les 2 runs", "Compare the 2 runs"),
        (1234, "Comparer les 1\u202f234 runs", "Compare the 1,234 runs"),
    ],
)
def test_plural_forms_follow_each_language_s_rules(n, fr, en, monkeypatch) -> None:
    """French counts 0 and 1 as singular, English only 1 ("Comparer les 1 runs" was the bug)."""
    from workbench.core import i18n

    table = {
        "t.compare": {
            "fr": {"one": "Comparer {n:,} run", "other": "Comparer les {n:,} runs"},
            "en": {"one": "Compare {n:,} run", "other": "Compare the {n:,} runs"},
        }
    }
    monkeypatch.setattr(i18n, "load_strings", lambda: table)
    assert (i18n.translate("t.compare", "fr", n=n), i18n.translate("t.compare", "en", n=n)) == (fr, en)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Alice", "Les runs d'Alice"),
        ("Hugo", "Les runs d'Hugo"),
        ("Émile", "Les runs d'Émile"),
        ("Bob", "Les runs de Bob"),
        ("", "Les runs de "),
    ],
)
def test_french_elides_de_before_a_vowel(name, expected, monkeypatch) -> None:
    from workbench.core import i18n

    table = {"t.runs": {"fr": "Les runs de {learner}", "en": "{learner}'s runs"}}
    monkeypatch.setattr(i18n, "load_strings", lambda: table)
    assert i18n.translate("t.runs", "fr", learner=name) == expected
    assert i18n.translate("t.runs", "en", learner=name) == f"{name}'s runs"


def test_elision_only_touches_whole_words_before_a_value() -> None:
    from workbench.core.i18n import _Formatter

    fr = _Formatter("fr")
    assert (
        fr.format("Que {a} parte, la {b}, le {c}", a="Anne", b="API", c="modèle") == "Qu'Anne parte, l'API, le modèle"
    )
    assert fr.format("Code {a} ; mode {a}", a="alpha") == "Code alpha ; mode alpha"  # "Code"/"mode" end in "de"/"e"
    assert fr.format("de `{a}`", a="alpha") == "de `alpha`"  # code stays as written
    assert fr.format("de {n} runs", n=11) == "de 11 runs"


def test_the_course_s_own_texts_agree_in_number_and_elide() -> None:
    """The two bugs seen in class: "Comparer les 1 runs" and "de Alice"."""
    assert translate("mlflow.compare_button", "fr", n=1) == "Comparer le run choisi"
    assert translate("mlflow.compare_button", "fr", n=3) == "Comparer les 3 runs choisis"
    assert translate("mlflow.compare_button", "en", n=1) == "Compare the chosen run"
    assert translate("mlflow.compare_button", "fr", n=0) == "Comparer les runs choisis"  # nothing chosen yet
    assert translate("home.reset_confirm", "fr", learner="Alice") == "Je confirme : effacer la progression d'Alice"
    assert translate("home.reset_confirm", "fr", learner="Bob") == "Je confirme : effacer la progression de Bob"
    assert translate("home.glossary_count", "fr", n=0) == "0 terme"
    assert "réussis d'**Alice**, dans" in translate("home.reset_text", "fr", learner="Alice")
