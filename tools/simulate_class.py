"""Seed a state dir with a simulated class, to look at the teacher's dashboard (development tool).

Thirty learners (by default) work through the chapters during a class that started 90 minutes ago: each
has a pace and a skill; per chapter they answer practice questions (right at the first try, or after wrong
tries), run hands-on checks (some fail three times and more), take the checkpoint, open chapters; what counts
as done (hands-on checks + checkpoint) is what the dashboard shows. Everything is written through `ProgressStore`, with
its clock moved to the simulated moment of each action. Some learners are here now, some left, a few are
here but stalled.

Usage: PYTHONPATH=app python tools/simulate_class.py STATE_DIR [--learners 30] [--seed 7] [--roster roster.csv]
(--roster also writes the class as a roster CSV, the learners and one teacher, for
`python -m workbench.classroom import-roster`; WORKBENCH_DATABASE_URL, if set, is the database written to.)
"""

from __future__ import annotations

import argparse
import os
import random
import time
import types
from pathlib import Path

from workbench.chapters import CHAPTERS
from workbench.core import progress
from workbench.core.exercises import CHECKPOINT_ID, load_exercises
from workbench.core.progress import ProgressStore

FIRST_NAMES = (
    "Alice Martin", "Bruno Petit", "Chloé Durand", "David Leroy", "Emma Moreau", "Fatou Diallo", "Gabriel Roux",
    "Hugo Fournier", "Inès Girard", "Jules Bonnet", "Karim Benali", "Léa Dupont", "Manon Lambert", "Nathan Faure",
    "Océane Rousseau", "Paul Blanc", "Quentin Guerin", "Rose Muller", "Sarah Henry", "Théo Garnier", "Ugo Chevalier",
    "Valentine Robin", "William Masson", "Xavier Marchand", "Yasmine Haddad", "Zoé Lefèvre", "Adam Mercier",
    "Bérénice Colin", "Camille Vidal", "Diego Navarro", "Élise Perrin", "Farid Aït", "Gaëlle Morel", "Hélène Noël",
)  # fmt: skip


class _Clock:
    """A clock the simulation moves forward; `ProgressStore` reads it instead of the real time."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now


def simulate(store: ProgressStore, n_learners: int = 30, seed: int = 7, now: float | None = None) -> list[str]:
    """Write a simulated class's work into `store`; returns the learners' names."""
    rng = random.Random(seed)
    now = time.time() if now is None else now
    clock = _Clock(now)
    real_time = progress.time
    progress.time = types.SimpleNamespace(time=clock.time)  # type: ignore[assignment]  # the store's clock only
    names = [FIRST_NAMES[i % len(FIRST_NAMES)] + ("" if i < len(FIRST_NAMES) else f" {i}") for i in range(n_learners)]
    try:
        for n, name in enumerate(names):
            _one_learner(store, name, rng, clock, now, profile=n % 6)
    finally:
        progress.time = real_time  # type: ignore[assignment]
    return names


def _one_learner(store: ProgressStore, name: str, rng: random.Random, clock: _Clock, now: float, profile: int) -> None:
    """One learner: earlier chapters in past sessions, then today's session.

    Profiles: 0-2 here and working, 3 here but stalled for half an hour, 4 left early, 5 stuck at a check.
    """
    steps = [
        (chapter.key, item)
        for chapter in CHAPTERS
        for item in (*load_exercises(chapter.key).quiz, *load_exercises(chapter.key).hands_on, CHECKPOINT_ID)
    ]
    steps = steps[: rng.randint(20, 140)]
    if profile == 5:  # stuck at a check that counts (a hands-on check or the checkpoint), not a practice question
        while len(steps) > 1 and hasattr(steps[-1][1], "options"):
            steps.pop()
    today = min(len(steps), rng.randint(8, 16))  # the last steps happen in today's session
    end = {3: now - 30 * 60, 4: now - 40 * 60}.get(profile, now - rng.uniform(0, 2 * 60))
    skill = rng.uniform(0.45, 0.95)
    opened = None
    for n, (chapter, item) in enumerate(steps):
        past = len(steps) - today
        if n < past:  # past sessions, over the last week
            clock.now = now - 8 * 86400 + n * 7 * 86400 / past
        else:
            k = n - (len(steps) - today)
            clock.now = now - 85 * 60 + k * (end - 3 * 60 - (now - 85 * 60)) / today
        if chapter != opened:
            store.record_visit(name, chapter)
            opened = chapter
        stuck_here = profile == 5 and n == len(steps) - 1
        tries = 5 if stuck_here else 4
        for attempt in range(tries):
            clock.now += rng.uniform(10, 40)
            right = not stuck_here and rng.random() < skill + 0.2 * attempt
            item_id = item if isinstance(item, str) else item.id
            store.record_attempt(name, chapter, item_id, *_answer(item, right, attempt, rng))
            if right:
                break
    if profile in (0, 1, 2, 3) and opened:  # on the page now (3: reading for half an hour without answering)
        clock.now = end if profile != 3 else now - rng.uniform(0, 2 * 60)
        store.record_visit(name, opened)


def _answer(item, right: bool, attempt: int, rng: random.Random) -> tuple:
    """(kind, correct, answer) of one attempt: the options chosen, the checkpoint's score, or what a check found."""
    if item == CHECKPOINT_ID:
        score = round(rng.uniform(0.75, 1.0) if right else rng.uniform(0.3, 0.7), 2)
        return "checkpoint", right, {"score": score, "passed": right}
    if hasattr(item, "options"):
        wrong = [i for i in range(len(item.options)) if i not in item.answer]
        return "quiz", right or not wrong, sorted(item.answer) if right or not wrong else [rng.choice(wrong)]
    return "hands_on", right, {"runs": attempt + 1, "best_f1": round(rng.uniform(0.55, 0.8), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--roster", type=Path, help="also write the class as a roster CSV (name,role)")
    args = parser.parse_args(argv)
    store = ProgressStore(os.environ.get("WORKBENCH_DATABASE_URL") or args.state_dir / "progress.db")
    names = simulate(store, args.learners, args.seed)
    print(f"{len(names)} learners written to {store.path or 'the database'}")
    if args.roster:
        lines = ["name,role", *(f"{name},learner" for name in names), "Mme Teacher,teacher"]
        args.roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"roster: {args.roster}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
