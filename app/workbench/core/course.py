"""What a chapter is, as data: its number, slug, section, icon, lab tabs and hands-on checks.

Each chapter declares itself in `workbench/chapters/chNN_slug/__init__.py` (`CHAPTER = Chapter(...)`);
`workbench.chapters` collects them. Titles, objectives and minutes come from the chapter's lesson front
matter (`lessons/{fr,en}/NN_slug.md`), so a teacher edits them without touching Python.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    """One tab of a chapter's lab: its label (an i18n key) and the function of the chapter's UI module."""

    label: str  # i18n key, e.g. "cicd.tab_pipeline"
    render: str  # name of a function in `workbench.ui.chapters.chNN_slug`
    args: tuple = ()  # positional arguments passed to it


@dataclass(frozen=True)
class Chapter:
    """One chapter of the course."""

    number: int
    slug: str
    section: str  # i18n key suffix of the navigation section, see strings/nav.yaml
    icon: str
    tabs: tuple[Tab, ...] = ()
    checks: tuple[str, ...] = ()  # the hands-on checks, `module:function`
    prerequisites: tuple[str, ...] = ()  # keys of the chapters whose work this one builds on (suggested, never locked)

    @property
    def key(self) -> str:
        """The file stem shared by the page, the lessons and the exercises (e.g. `05_mlflow`)."""
        return f"{self.number:02d}_{self.slug}"

    @property
    def package(self) -> str:
        """The name of the chapter's packages and files (`ch05_mlflow`): chapters/, ui/chapters/, strings/, tests/."""
        return f"ch{self.key}"

    @property
    def prefix(self) -> str:
        """The prefix of every widget key and session-state key of the chapter (`ch05`)."""
        return f"ch{self.number:02d}"

    @property
    def roman(self) -> str:
        """The chapter number in Roman numerals, as the course writes it."""
        return to_roman(self.number)

    @property
    def page_path(self) -> str:
        """Path of the page script relative to `app/` (where Home.py lives)."""
        return f"../pages/{self.key}.py"


SECTIONS: tuple[str, ...] = ("foundations", "build", "deploy", "operate")


def to_roman(number: int) -> str:
    """Convert 1..39 to Roman numerals (enough for a course)."""
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, letters in numerals:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)
