"""Every hands-on check comes with its walkthrough (`solution:`), in French and in English."""

from __future__ import annotations

import pytest
import yaml
from workbench.chapters import CHAPTERS
from workbench.core.exercises import CAPSTONE_KEY, load_exercises
from workbench.core.settings import LANGUAGES, get_settings

KEYS = [c.key for c in CHAPTERS] + [CAPSTONE_KEY]


@pytest.mark.parametrize("key", KEYS)
def test_every_hands_on_entry_has_a_bilingual_walkthrough(key: str) -> None:
    path = get_settings().lessons_dir / "exercises" / f"{key}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for entry in raw.get("hands_on") or []:
        solution = entry.get("solution")
        assert isinstance(solution, dict), f"{key} [{entry.get('id')}]: no `solution:` walkthrough"
        for lang in LANGUAGES:
            text = str(solution.get(lang) or "").strip()
            assert len(text) >= 200, f"{key} [{entry['id']}]: the {lang} walkthrough is missing or too short"
            assert text != str(entry["instructions"][lang]).strip(), f"{key} [{entry['id']}]: copies the instructions"
        assert solution["fr"] != solution["en"], f"{key} [{entry['id']}]: the same text in both languages"
    exercises = load_exercises(key)
    assert all(h.solution is not None for h in exercises.hands_on)


def test_french_walkthroughs_are_written_the_french_way() -> None:
    """Numbers and percentages in French: `0,05` and `20 %`, not `0.05` or `20%` (code spans aside)."""
    import re

    for key in KEYS:
        for exercise in load_exercises(key).hands_on:
            prose = re.sub(r"```.*?```|`[^`]*`", "", exercise.solution["fr"], flags=re.S)
            assert not re.search(r"\d%", prose), f"{key} [{exercise.id}]: write `20 %` in French"
            assert not re.search(r"(?<![\w.])\d+\.\d+(?![\w.])", prose), f"{key} [{exercise.id}]: decimal comma"
