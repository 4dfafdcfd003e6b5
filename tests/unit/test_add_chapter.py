"""docs/ARCHITECTURE.md's checklist works: a throw-away 12th chapter, added in a copy, renders in both languages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

LESSON = """---
title: {title}
nav_title: "{nav}"
objectives:
  - {objective}
minutes: 5
key_terms:
  - term: {term}
    definition: {definition}
---
{intro}

## {section}
{body}
"""

FILES = {
    # 1. the declaration and the lab logic
    "app/workbench/chapters/ch12_demo/__init__.py": '''"""Chapter 12 (a test's throw-away chapter)."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=12,
    slug="demo",
    section="operate",
    icon=":material/science:",
    tabs=(Tab("demo.tab_count", "count_tab"),),
    checks=("workbench.chapters.ch12_demo.checks:check_counted",),
)
''',
    "app/workbench/chapters/ch12_demo/counting.py": '''"""The lab logic: count the approved loans."""

from workbench.core.data import TARGET, generate_loan_data


def approved(rows: int) -> int:
    """How many of `rows` generated applications are approved."""
    return int((generate_loan_data(rows, seed=1)[TARGET] == "Y").sum())
''',
    "app/workbench/chapters/ch12_demo/checks.py": '''"""The chapter's hands-on check."""

from workbench.core.exercises import CheckContext, CheckResult


def check_counted(ctx: CheckContext) -> CheckResult:
    """Never passes: nothing is saved in this demo."""
    return CheckResult(False, ["nothing saved"])
''',
    # 2. the tabs
    "app/workbench/ui/chapters/ch12_demo.py": '''"""Chapter 12's tabs."""

import streamlit as st

from workbench.chapters.ch12_demo.counting import approved
from workbench.ui.context import t


def count_tab() -> None:
    """How many loans are approved among 50."""
    st.metric(t("demo.approved"), approved(50))
''',
    # 3. the texts
    "app/workbench/strings/ch12_demo/demo.yaml": """tab_count:
  fr: "Compter"
  en: "Count"
approved:
  fr: "Prêts accordés"
  en: "Approved loans"
""",
    # 4. the page
    "pages/12_demo.py": '"""Chapter XII: a demo."""\n\nfrom workbench.ui.chapter_page import render_chapter\n\nrender_chapter("12_demo")\n',
    # 5. the lessons and exercises
    "lessons/fr/12_demo.md": LESSON.format(
        title="Un chapitre de démonstration",
        nav="Démo",
        objective="Compter",
        term="Démo",
        definition="Un chapitre ajouté par un test.",
        intro="Introduction.",
        section="Concept",
        body="Texte.\n\n## Vérifiez vos acquis\n\n- Combien de prêts sont accordés ?",
    ),
    "lessons/en/12_demo.md": LESSON.format(
        title="A demo chapter",
        nav="Demo",
        objective="Count",
        term="Demo",
        definition="A chapter a test adds.",
        intro="Introduction.",
        section="Concept",
        body="Text.\n\n## Check yourself\n\n- How many loans are approved?",
    ),
    "lessons/exercises/12_demo.yaml": """hands_on:
  - id: counted
    check: workbench.chapters.ch12_demo.checks:check_counted
    title: {fr: "Compter", en: "Count"}
    instructions: {fr: "Comptez les prêts accordés.", en: "Count the approved loans."}
""",
    "lessons/review/12_demo.yaml": """- question: {fr: "Combien de prêts sont accordés ?", en: "How many loans are approved?"}
  answer:
    fr: "Ceux que compte l'onglet. Le nombre dépend des données. Comparez-le au total."
    en: "Those the tab counts. The number depends on the data. Compare it with the total."
""",
    # 6. the tests (not run here: the copy only proves the files are where the checklist says)
    "tests/pages/test_ch12_demo.py": '"""Chapter 12\'s page."""\n',
}

SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest
out = {}
for lang in ("fr", "en"):
    at = AppTest.from_file(sys.argv[1], default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("../pages/12_demo.py")
    at.run()
    out[lang] = {
        "exceptions": [e.value for e in at.exception],
        "title": [x.value for x in at.title],
        "metrics": [(m.label, m.value) for m in at.metric],
        "tabs": [tab.label for tab in at.tabs],
        "review": [b.label for b in at.button if str(b.key).startswith("ch12_review_compare")],
    }
from workbench.chapters import CHAPTERS
from workbench.core.lessons import load_lesson
out["chapters"] = [c.key for c in CHAPTERS]
out["nav"] = [f"{CHAPTERS[-1].roman}. {load_lesson('12_demo', lang).nav_title}" for lang in ("fr", "en")]
print("RESULT " + json.dumps(out))
"""


def test_a_twelfth_chapter_from_the_checklist_renders(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for folder in ("app", "pages", "lessons", "data"):
        shutil.copytree(REPO_ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "tests" / "pages").mkdir(parents=True)
    (copy / "tests" / "unit" / "ch12_demo").mkdir(parents=True)
    for name, text in FILES.items():
        path = copy / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy / "app"), "WORKBENCH_STATE_DIR": str(tmp_path / "state")}
    env.pop("WORKBENCH_DATA", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(copy / "app" / "Home.py")],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["chapters"][-1] == "12_demo" and len(result["chapters"]) == 12
    assert result["nav"] == ["XII. Démo", "XII. Demo"]
    for lang, title, tab, label, review in (
        (
            "fr",
            "Chapitre XII — Un chapitre de démonstration",
            "Compter",
            "Prêts accordés",
            "Comparer avec une réponse modèle",
        ),
        ("en", "Chapter XII — A demo chapter", "Count", "Approved loans", "Compare with a model answer"),
    ):
        page = result[lang]
        assert page["exceptions"] == []
        assert any(title in shown for shown in page["title"]), page["title"]
        assert tab in page["tabs"]
        assert page["review"] == [review]  # its « Vérifiez vos acquis » question, with its model answer
        assert page["metrics"] and page["metrics"][0][0] == label and int(page["metrics"][0][1]) > 0
