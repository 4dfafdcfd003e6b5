"""The course's chapters as data: number, slug, section, icon.

Titles, objectives and minutes come from each chapter's lesson front matter
(`lessons/{fr,en}/NN_slug.md`), so a teacher edits them without touching Python.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    """One chapter of the course."""

    number: int
    slug: str
    section: str  # i18n key suffix of the navigation section, see strings/nav.yaml
    icon: str

    @property
    def key(self) -> str:
        """The file stem shared by the page, the lessons and the exercises (e.g. `05_mlflow`)."""
        return f"{self.number:02d}_{self.slug}"

    @property
    def roman(self) -> str:
        """The chapter number in Roman numerals, as the course writes it."""
        return to_roman(self.number)

    @property
    def page_path(self) -> str:
        """Path of the page script relative to `app/` (where Home.py lives)."""
        return f"../pages/{self.key}.py"


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(1, "introduction", "foundations", ":material/school:"),
    Chapter(2, "fundamentals", "foundations", ":material/terminal:"),
    Chapter(3, "deployment_challenges", "foundations", ":material/warning:"),
    Chapter(4, "packaging", "build", ":material/inventory_2:"),
    Chapter(5, "mlflow", "build", ":material/science:"),
    Chapter(6, "docker", "build", ":material/deployed_code:"),
    Chapter(7, "web_apps_api", "deploy", ":material/api:"),
    Chapter(8, "cicd", "deploy", ":material/sync:"),
    Chapter(9, "kubernetes", "deploy", ":material/cloud:"),
    Chapter(10, "monitoring", "operate", ":material/monitoring:"),
    Chapter(11, "post_production", "operate", ":material/shield:"),
)

SECTIONS: tuple[str, ...] = ("foundations", "build", "deploy", "operate")


def get_chapter(key_or_number: str | int) -> Chapter:
    """Find a chapter by its key (`05_mlflow`), slug (`mlflow`) or number (5).

    Raises:
        KeyError: no chapter matches.
    """
    for chapter in CHAPTERS:
        if key_or_number in (chapter.key, chapter.slug, chapter.number):
            return chapter
    raise KeyError(f"unknown chapter: {key_or_number!r}")


def to_roman(number: int) -> str:
    """Convert 1..39 to Roman numerals (enough for a course)."""
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in numerals:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)
