"""The certificate of completion: given only when every chapter is done and understood.

"Done" is what `ChapterExercises.item_ids` says: every hands-on check passed and the checkpoint passed.
The certificate lists, per chapter, the best checkpoint score and the hands-on exercises checked on the
learner's real work. It is one self-contained HTML page (inline CSS, nothing fetched), printable to PDF
from the browser; every text that comes from a person (the learner's name) is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workbench.chapters import CHAPTERS
from workbench.core.exercises import CAPSTONE_KEY, CHECKPOINT_ID, load_exercises
from workbench.core.formatting import date, percent
from workbench.core.i18n import translate
from workbench.core.lessons import load_lesson
from workbench.core.progress import ItemProgress


@dataclass(frozen=True)
class ChapterRecord:
    """One chapter on the certificate."""

    roman: str
    title: str
    checkpoint_score: float | None
    hands_on: int
    done: bool
    finished_at: float | None


@dataclass(frozen=True)
class Certificate:
    """A learner's record over the whole course; `complete` when every chapter is done."""

    learner: str
    chapters: tuple[ChapterRecord, ...]
    capstone_done: int = 0
    capstone_total: int = 0

    @property
    def complete(self) -> bool:
        """True when every chapter is done (hands-on checks and checkpoint passed) and the capstone passes."""
        return all(c.done for c in self.chapters) and self.capstone_done == self.capstone_total

    @property
    def finished_at(self) -> float | None:
        """When the last chapter was finished."""
        times = [c.finished_at for c in self.chapters if c.finished_at is not None]
        return max(times) if times else None


def build_certificate(
    learner: str, items: dict[str, dict[str, ItemProgress]], lang: str, lessons_dir: Path | None = None
) -> Certificate:
    """The learner's record from their progress (`items`: chapter key, or `CAPSTONE_KEY` → item id → progress)."""
    records = []
    for chapter in CHAPTERS:
        exercises = load_exercises(chapter.key, lessons_dir)
        mine = items.get(chapter.key, {})
        needed = exercises.item_ids
        done = bool(needed) and all(i in mine and mine[i].done for i in needed)
        checkpoint = mine.get(CHECKPOINT_ID)
        records.append(
            ChapterRecord(
                roman=chapter.roman,
                title=load_lesson(chapter.key, lang).title,
                checkpoint_score=checkpoint.score if checkpoint else None,
                hands_on=sum(1 for h in exercises.hands_on if h.id in mine and mine[h.id].done),
                done=done,
                finished_at=max((mine[i].updated_at for i in needed if i in mine), default=None) if done else None,
            )
        )
    capstone = load_exercises(CAPSTONE_KEY, lessons_dir).item_ids
    mine = items.get(CAPSTONE_KEY, {})
    passed = sum(1 for i in capstone if i in mine and mine[i].done)
    return Certificate(learner, tuple(records), passed, len(capstone))


CSS = """
body { font-family: Georgia, 'Times New Roman', serif; color: #1c2733; margin: 2.5cm auto; max-width: 17cm; }
h1 { text-align: center; font-size: 2.1em; margin-bottom: .2em; letter-spacing: .03em; }
.sub { text-align: center; color: #51606f; margin-top: 0; }
.name { text-align: center; font-size: 1.8em; margin: 1.2em 0 .2em; }
table { width: 100%; border-collapse: collapse; margin-top: 1.5em; font-size: .95em; }
th, td { border-bottom: 1px solid #c9d2db; padding: .35em .5em; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
.foot { margin-top: 2em; color: #51606f; font-size: .9em; text-align: center; }
@page { size: A4; margin: 1.5cm; }
"""


def certificate_html(certificate: Certificate, lang: str) -> str:
    """The certificate as one HTML page (escaped, self-contained).

    Raises:
        ValueError: the course is not complete (no certificate for unfinished work).
    """
    if not certificate.complete:
        raise ValueError("the course is not complete")

    def tr(key: str, **values: object) -> str:
        return html.escape(translate(f"certificate.{key}", lang, **values))

    rows = "\n".join(
        f"<tr><td>{c.roman}. {html.escape(c.title)}</td>"
        f"<td class='num'>{html.escape(percent(c.checkpoint_score or 0.0, lang, 0))}</td>"
        f"<td class='num'>{c.hands_on}</td></tr>"
        for c in certificate.chapters
    )
    when = date(datetime.fromtimestamp(certificate.finished_at or 0), lang)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{tr("title")}</title><style>{CSS}</style></head>
<body>
<h1>{tr("title")}</h1>
<p class="sub">{tr("course")}</p>
<p class="name">{html.escape(certificate.learner)}</p>
<p class="sub">{tr("statement", n=len(certificate.chapters))}</p>
<p class="sub">{tr("capstone", n=certificate.capstone_total)}</p>
<table><thead><tr><th>{tr("chapter")}</th><th>{tr("checkpoint")}</th><th>{tr("hands_on")}</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p class="foot">{tr("date", date=when)}</p>
</body></html>
"""
