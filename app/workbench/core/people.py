"""Who uses the workbench: a person with a name (their learner id) and a role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a person may see: a learner their own work; a teacher also the class."""

    LEARNER = "learner"
    TEACHER = "teacher"


@dataclass(frozen=True)
class Person:
    """A signed-in person (class mode) or the laptop's learner (solo mode); `name` keys all their work."""

    name: str
    role: Role = Role.LEARNER
    email: str | None = None

    @property
    def is_teacher(self) -> bool:
        """True for a teacher (sees the class dashboard)."""
        return self.role is Role.TEACHER
