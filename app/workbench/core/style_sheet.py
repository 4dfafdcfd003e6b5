"""The course's FR/EN style sheet (`lessons/STYLE-SHEET.md`), as checks a test runs over the texts learners read.

French: *réentraîner* (one word, circumflex), *caractéristiques (features)* rather than a bare *features*,
*empaqueter* rather than *emballer* or *packager*, a space before `: ; ? !` and inside « ».
English: one spelling, American (*optimize*, *behavior*, *modeling*), no space before `: ; ? !`, no « ».
Code (fenced blocks, `inline code`), math (`$...$`) and URLs are not prose and are not checked.
Nothing here imports streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_NOT_PROSE = re.compile(r"`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]+\$|https?://\S+|\{[a-z_]+(?::[^}]*)?\}|<[^>\n]+>", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    """One rule of the style sheet: the pattern it forbids in prose, and what to write instead."""

    id: str
    lang: str
    pattern: re.Pattern[str]
    fix: str


_BRITISH_STEMS = (
    "optimi|normali|organi|industriali|vectori|standardi|randomi|seriali|containeri|initiali|recogni|reali|summari"
    "|categori|prioriti|minimi|maximi|utili|visuali|customi|authori|speciali|characteri|generali|regulari|penali"
    "|finali|tokeni|paralleli|stabili|synchroni|locali|capitali|critici|memori|personali|saniti|anonymi|digiti"
    "|modulari|emphasi|apologi|publici|legitimi|operationali|materiali|centrali|rationali|neutrali"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "fr-reentrainer",
        "fr",
        re.compile(r"\b(ré-entra|re-?entra|réentrain)\w*", re.IGNORECASE),
        "réentraîner (un mot, avec accent circonflexe)",
    ),
    Rule(
        "fr-features",
        "fr",
        re.compile(r"(?<!caractéristiques \()(?<!caractéristique \()\b[Ff]eatures?\b(?! (store|flag))"),
        "caractéristiques (features) : le mot anglais seulement entre parenthèses, après le terme français",
    ),
    Rule(
        "fr-empaqueter",
        "fr",
        re.compile(r"\b(emball\w*|packag(?:er|é|ée|és|ées|eons|ez|ent)\b)", re.IGNORECASE),
        "empaqueter, empaquetage",
    ),
    Rule(
        "fr-space-before",
        "fr",
        re.compile(r"(?<=[^\s\d(\[*_/])[;?!](?=\s|$)|(?<=[^\s\d(\[*_/])(?<!\w:)\:(?=\s|$)"),
        "une espace avant « : ; ? ! » en français",
    ),
    Rule("fr-guillemets", "fr", re.compile(r"«(?=\S)|(?<=\S)»"), "une espace à l'intérieur des guillemets « »"),
    Rule("en-space-before", "en", re.compile(r"(?<=\w)\s+[;:?!](?=\s|$)"), "no space before : ; ? ! in English"),
    Rule("en-guillemets", "en", re.compile(r"[«»]"), 'English quotes: "…"'),
    Rule(
        "en-british",
        "en",
        re.compile(rf"\b({_BRITISH_STEMS})s(e|ed|es|ing|ation|ations|ational|er|ers)\b", re.IGNORECASE),
        "American spelling: -ize, -ization",
    ),
    Rule(
        "en-british-our",
        "en",
        re.compile(r"\b(behavio|colo|favo|hono|labo|neighbo|humo|flavo|rumo)ur(s|ed|ing|ite|ites)?\b", re.IGNORECASE),
        "American spelling: behavior, color…",
    ),
    Rule(
        "en-british-other",
        "en",
        re.compile(
            r"\b(modelling|modelled|labelled|labelling|travelled|travelling|cancelled|cancelling|signalled|levelled"
            r"|catalogue|programme|centre|centres|licence|defence|defences|offence|analyse|analysed|analysing|grey|enrol)\b",
            re.IGNORECASE,
        ),
        "American spelling: modeling, labeled, center, license, analyze…",
    ),
)


@dataclass(frozen=True)
class StyleProblem:
    """A place where a text breaks the style sheet."""

    path: str
    line: int
    rule: str
    found: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] `{self.found}` → {self.fix}"


def prose(text: str) -> str:
    """`text` with code, math, URLs, placeholders and HTML replaced by `x`s (same length, so offsets keep their
    line; a word rather than spaces, so the punctuation after `code` is checked as after a word)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", "x", match.group(0))

    return _NOT_PROSE.sub(blank, _FENCE.sub(blank, text))


def check_text(text: str, lang: str, path: str = "", first_line: int = 1) -> list[StyleProblem]:
    """The style problems of one text in one language."""
    clean = prose(text)
    return [
        StyleProblem(path, first_line + clean.count("\n", 0, m.start()), rule.id, m.group(0).strip(), rule.fix)
        for rule in RULES
        if rule.lang == lang
        for m in rule.pattern.finditer(clean)
    ]


def _yaml_texts(node: object, lang: str | None = None):
    """(language, text) of every `fr:`/`en:` string in a YAML tree (lists of such strings too)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _yaml_texts(value, key if key in ("fr", "en") else lang)
    elif isinstance(node, list):
        for item in node:
            yield from _yaml_texts(item, lang)
    elif isinstance(node, str) and lang:
        yield lang, node


def _line_of(source: str, text: str) -> int:
    """The line where a YAML value starts (its first 30 characters, as written in the file), 0 if not found."""
    head = text.strip().splitlines()[0][:30] if text.strip() else ""
    index = source.find(head) if head else -1
    return source.count("\n", 0, index) + 1 if index >= 0 else 0


def check_file(path: Path, root: Path) -> list[StyleProblem]:
    """The style problems of a lesson (`lessons/fr|en/*.md`) or of a bilingual YAML file."""
    relative = path.relative_to(root).as_posix()
    source = path.read_text(encoding="utf-8")
    problems: list[StyleProblem] = []
    if path.suffix == ".md":
        lang = path.parent.name
        if lang not in ("fr", "en"):
            return []
        head, _, body = source.partition("\n---\n") if source.startswith("---\n") else ("", "", source)
        start = head.count("\n") + 3 if head else 1
        problems += check_text(body, lang, relative, start)
        texts = _yaml_texts({lang: yaml.safe_load(head[4:])}) if head else []
    else:
        texts = _yaml_texts(yaml.safe_load(source))
    for lang, text in texts:
        line = _line_of(source, text)
        problems += [StyleProblem(relative, line, p.rule, p.found, p.fix) for p in check_text(text, lang, relative)]
    return problems


STYLED_FILES: tuple[str, ...] = (
    "lessons/fr/*.md",
    "lessons/en/*.md",
    "lessons/*.yaml",
    "lessons/annotations/*.yaml",
    "lessons/exercises/*.yaml",
    "lessons/review/*.yaml",
    "app/workbench/strings/*.yaml",
)


def check_style(root: Path | None = None) -> list[StyleProblem]:
    """Every style problem in the lessons, their YAML files and the UI strings."""
    from workbench.core.settings import get_settings

    root = root or get_settings().repo_root
    return [p for pattern in STYLED_FILES for path in sorted(root.glob(pattern)) for p in check_file(path, root)]
