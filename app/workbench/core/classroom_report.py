"""The class seen by its teacher: progress matrix, first-try success, who is stuck, one learner's detail, CSV.

Everything is read once from the `ProgressStore` public API into a `ClassSnapshot` (`load_class`), then
computed by pure functions, so the dashboard, the shell report (`python -m workbench.classroom report --csv`)
and the tests share one definition of each number. The learners come from the caller (the roster, or
`store.learners()` until there is one): a name with no progress still gets its rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.chapters import CHAPTERS, Chapter
from workbench.core.exercises import ChapterExercises, load_exercises
from workbench.core.i18n import pick
from workbench.core.people import Role
from workbench.core.progress import Attempt, ItemProgress, ProgressStore
from workbench.core.roster import Roster

#: A learner is "stuck" on a check after this many failed attempts at it.
STUCK_ATTEMPTS = 3
#: Default minutes without a success (while present) before a learner counts as stuck.
IDLE_MINUTES = 15
#: A learner seen (page opened, answer sent) within this many minutes is "here now".
PRESENT_MINUTES = 5
#: How far back a class session reaches: activity older than this is not "during the session".
SESSION_HOURS = 3
#: Time spent: a gap between two events longer than this counts as this much (the learner went idle or left).
IDLE_CAP_MINUTES = 10
#: Columns of the report (dashboard CSV and `python -m workbench.classroom report --csv`), in order.
REPORT_COLUMNS = ("learner", "chapter", "done", "total", "last_activity", "solution_seen")
#: Longest text shown for a learner's last answer.
ANSWER_CHARS = 160


@dataclass(frozen=True)
class ClassSnapshot:
    """Every learner's progress, visits and attempts, read at `taken_at` (seconds since the epoch)."""

    learners: tuple[str, ...]
    items: dict[str, dict[str, dict[str, ItemProgress]]]  # learner → chapter → item → progress
    visits: dict[str, dict[str, float]]  # learner → chapter → last visit
    exercises: dict[str, ChapterExercises]  # chapter → its exercises (as defined today)
    taken_at: float = field(default_factory=time.time)
    log: tuple[Attempt, ...] = ()  # the learners' attempts, oldest first

    def chapter_items(self, learner: str, chapter: str) -> dict[str, ItemProgress]:
        """The learner's progress on a chapter's counted items (hands-on checks, checkpoint) that still exist."""
        ids = set(self.exercises[chapter].item_ids)
        return {k: v for k, v in self.items.get(learner, {}).get(chapter, {}).items() if k in ids}

    def last_seen(self, learner: str) -> float | None:
        """When the learner last opened a chapter or answered anything (None: never)."""
        times = [*self.visits.get(learner, {}).values()]
        times += [p.updated_at for chapter in self.items.get(learner, {}).values() for p in chapter.values()]
        return max(times) if times else None


def class_learners(roster: Roster | None, store: ProgressStore, exclude: Iterable[str] = ()) -> list[str]:
    """The class: the roster's learners (in its order), then anyone else with activity (e.g. an OIDC user not in
    the roster), never a teacher of the roster nor a name of `exclude` (the signed-in teacher)."""
    people = roster.people() if roster is not None else []
    teachers = {p.name for p in people if p.role is Role.TEACHER} | set(exclude)
    listed = [p.name for p in people if p.role is Role.LEARNER]
    return [name for name in dict.fromkeys([*listed, *store.learners()]) if name not in teachers]


def load_class(
    store: ProgressStore, learners: Iterable[str], lessons_dir: Path | None = None, now: float | None = None
) -> ClassSnapshot:
    """Read the progress of `learners` (in the given order, duplicates dropped) on every chapter: three queries
    (answers, visits, attempt log) whatever the size of the class."""
    names = tuple(dict.fromkeys(learners))
    wanted = set(names)
    exercises = {c.key: load_exercises(c.key, lessons_dir) for c in CHAPTERS}
    found = store.class_items(names)
    items = {name: {key: found.get(name, {}).get(key, {}) for key in exercises} for name in names}
    visits: dict[str, dict[str, float]] = {name: {} for name in names}
    for visit in store.visits():
        if visit.learner in wanted:
            visits[visit.learner][visit.chapter] = visit.visited_at
    log = tuple(a for a in store.attempt_log() if a.learner in wanted)
    return ClassSnapshot(names, items, visits, exercises, time.time() if now is None else now, log)


# --------------------------------------------------------------------------------------------
# Time spent per chapter, from what the store records
# --------------------------------------------------------------------------------------------


def time_spent(snapshot: ClassSnapshot, cap_minutes: float = IDLE_CAP_MINUTES) -> dict[str, dict[str, float]]:
    """Learner → chapter → minutes spent on it.

    Definition: a learner's events are every attempt of the attempt log (quiz answer, checkpoint, hands-on check:
    chapter and time) and their last visit to each chapter (the page records a visit at each rerun, so it is
    their last action there); sorted in time. Each gap between two consecutive events *on the same chapter*
    counts for that chapter, at most `cap_minutes` (longer: they went idle or left); a gap between events on two
    chapters counts for neither. It is a lower bound: the store keeps every attempt but only the last visit,
    so reading before a chapter's first answer is not seen.
    """
    cap = cap_minutes * 60.0
    spent: dict[str, dict[str, float]] = {name: {} for name in snapshot.learners}
    events: dict[str, list[tuple[float, str]]] = {name: [] for name in snapshot.learners}
    for attempt in snapshot.log:
        if attempt.learner in events:
            events[attempt.learner].append((attempt.at, attempt.chapter))
    for learner, chapters in snapshot.visits.items():
        events.setdefault(learner, []).extend((at, chapter) for chapter, at in chapters.items())
    for learner, timeline in events.items():
        timeline.sort()
        for (before, chapter), (after, next_chapter) in zip(timeline, timeline[1:]):
            if chapter == next_chapter:
                minutes = min(after - before, cap) / 60.0
                spent.setdefault(learner, {})[chapter] = spent.get(learner, {}).get(chapter, 0.0) + minutes
    return spent


def chapter_times(
    snapshot: ClassSnapshot, planned: dict[str, int] | None = None, cap_minutes: float = IDLE_CAP_MINUTES
) -> pd.DataFrame:
    """Per chapter, in course order: learners with time on it, median and 75th percentile of their minutes
    (`time_spent`), and the `planned` minutes (the lessons' measured total) to compare with; NaN where none."""
    spent = time_spent(snapshot, cap_minutes)
    rows = []
    for chapter in CHAPTERS:
        minutes = pd.Series([by[chapter.key] for by in spent.values() if by.get(chapter.key, 0) > 0], dtype=float)
        rows.append(
            {
                "chapter": chapter.key,
                "learners": len(minutes),
                "median": float(minutes.median()) if len(minutes) else float("nan"),
                "p75": float(minutes.quantile(0.75)) if len(minutes) else float("nan"),
                "planned": float((planned or {}).get(chapter.key, float("nan"))),
            }
        )
    return pd.DataFrame(rows, columns=["chapter", "learners", "median", "p75", "planned"])


# --------------------------------------------------------------------------------------------
# Progress: matrix and report rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One learner on one chapter: items done out of the chapter's total, when they last worked on it, and the items
    passed only after opening their solution (not counted in `done`)."""

    learner: str
    chapter: str
    done: int
    total: int
    last_activity: float | None  # seconds since the epoch, None: never opened
    solution_seen: int = 0

    def csv_values(self) -> list[str | int]:
        """The row as CSV cells: the time in ISO 8601 UTC (a spreadsheet reads it in any language)."""
        when = "" if self.last_activity is None else _iso(self.last_activity)
        return [self.learner, self.chapter, self.done, self.total, when, self.solution_seen]


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def report_rows(snapshot: ClassSnapshot) -> list[ReportRow]:
    """One row per learner and chapter, learners in the snapshot's order, chapters in course order."""
    rows = []
    for learner in snapshot.learners:
        for key, exercises in snapshot.exercises.items():
            items = snapshot.chapter_items(learner, key)
            times = [p.updated_at for p in snapshot.items[learner][key].values()]
            visit = snapshot.visits.get(learner, {}).get(key)
            times += [visit] if visit is not None else []
            done = sum(p.done for p in items.values())
            seen = sum(p.passed_with_solution for p in items.values())
            last = max(times) if times else None
            rows.append(ReportRow(learner, key, done, len(exercises.item_ids), last, seen))
    return rows


def classroom_report_rows(
    store: ProgressStore, learners: Iterable[str], lessons_dir: Path | None = None
) -> list[ReportRow]:
    """The class report (one row per learner and chapter), read from the store: the dashboard's CSV and the CLI's."""
    return report_rows(load_class(store, learners, lessons_dir))


def report_csv(rows: Iterable[ReportRow]) -> str:
    """The report as CSV text with a header line (`REPORT_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(row.csv_values() for row in rows)
    return out.getvalue()


def progress_matrix(snapshot: ClassSnapshot) -> pd.DataFrame:
    """Learners × chapters: the share of each chapter's items done (NaN for a chapter without exercises); an item
    passed after its solution was seen is not done."""
    data = {
        key: [
            (sum(p.done for p in snapshot.chapter_items(learner, key).values()) / len(ex.item_ids))
            if ex.item_ids
            else float("nan")
            for learner in snapshot.learners
        ]
        for key, ex in snapshot.exercises.items()
    }
    return pd.DataFrame(data, index=pd.Index(snapshot.learners, name="learner"), dtype=float)


def solution_seen_matrix(snapshot: ClassSnapshot) -> pd.DataFrame:
    """Learners × chapters: how many items each learner passed only after opening their solution."""
    data = {
        key: [
            sum(p.passed_with_solution for p in snapshot.chapter_items(learner, key).values())
            for learner in snapshot.learners
        ]
        for key in snapshot.exercises
    }
    return pd.DataFrame(data, index=pd.Index(snapshot.learners, name="learner"), dtype=int)


def progress_heatmap_figure(snapshot: ClassSnapshot, lang: str, labels: dict[str, str]):
    """The class × chapter heat map (plotly): colour = share done, text = done/total (and `(+n)` passed with the
    solution seen, which do not count), hover = the chapter's title.

    Args:
        labels: translated `learner`, `chapter`, `done` and `solution_seen` words for the axes and hover.
    """
    import plotly.graph_objects as go

    from workbench.core.formatting import localize_figure, percent
    from workbench.core.lessons import load_lesson

    matrix = progress_matrix(snapshot)
    chapters = _chapters()
    columns = [chapters[key].roman for key in matrix.columns]
    titles = [load_lesson(key, lang).nav_title for key in matrix.columns]
    totals = [len(snapshot.exercises[key].item_ids) for key in matrix.columns]
    seen = solution_seen_matrix(snapshot).to_numpy()
    text = [
        [
            "" if total == 0 else f"{round(value * total)}/{total}" + (f" (+{n})" if n else "")
            for value, total, n in zip(row, totals, seen_row, strict=True)
        ]
        for row, seen_row in zip(matrix.to_numpy(), seen, strict=True)
    ]
    hover = [
        [[title, percent(value, lang, 0), int(n)] for title, value, n in zip(titles, row, seen_row, strict=True)]
        for row, seen_row in zip(matrix.to_numpy(), seen, strict=True)
    ]
    ticks = [0, 0.25, 0.5, 0.75, 1]
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=columns,
            y=list(matrix.index),
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            zmin=0,
            zmax=1,
            colorscale="Greens",
            xgap=2,
            ygap=2,
            colorbar={
                "title": {"text": labels["done"]},
                "tickmode": "array",
                "tickvals": ticks,
                "ticktext": [percent(v, lang, 0) for v in ticks],
            },
            hovertemplate=(
                f"{labels['learner']}: %{{y}}<br>{labels['chapter']} %{{x}}. %{{customdata[0]}}<br>"
                f"{labels['done']}: %{{customdata[1]}} (%{{text}})<br>"
                f"{labels.get('solution_seen', 'solution seen')}: %{{customdata[2]}}<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        height=max(320, 26 * len(matrix.index) + 120),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"side": "top", "title": None},
        yaxis={"autorange": "reversed", "title": None, "type": "category"},
    )
    return localize_figure(figure, lang)


def _chapters() -> dict[str, Chapter]:
    return {c.key: c for c in CHAPTERS}


# --------------------------------------------------------------------------------------------
# Questions: first-try success across the class
# --------------------------------------------------------------------------------------------

QUESTION_COLUMNS = ("chapter", "item", "kind", "text", "attempted", "first_try", "completed", "mean_attempts")


def item_text(exercises: ChapterExercises, item: str, lang: str) -> str:
    """A question's prompt or a hands-on exercise's title, in `lang` (the id if the item no longer exists)."""
    for question in exercises.quiz:
        if question.id == item:
            return pick(question.prompt, lang)
    for exercise in exercises.hands_on:
        if exercise.id == item:
            return pick(exercise.title, lang)
    return item


def question_stats(snapshot: ClassSnapshot, lang: str) -> pd.DataFrame:
    """Per item attempted by someone: how many learners tried it, the share right at the first try, done, mean tries.

    `first_try` counts only learners whose first try was recorded (older stores did not record it); the
    hardest items come first (lowest first-try success, then most attempts).
    """
    rows = []
    for key, exercises in snapshot.exercises.items():
        for item in dict.fromkeys([*(q.id for q in exercises.quiz), *exercises.item_ids]):
            tried = [
                p
                for learner in snapshot.learners
                if (p := snapshot.items[learner][key].get(item)) is not None and p.attempts > 0
            ]
            if not tried:
                continue
            known = [p.first_correct for p in tried if p.first_correct is not None]
            rows.append(
                {
                    "chapter": key,
                    "item": item,
                    "kind": next(p.kind for p in tried),
                    "text": item_text(exercises, item, lang),
                    "attempted": len(tried),
                    "first_try": sum(known) / len(known) if known else float("nan"),
                    "completed": sum(p.completed for p in tried) / len(tried),
                    "mean_attempts": sum(p.attempts for p in tried) / len(tried),
                }
            )
    table = pd.DataFrame(rows, columns=list(QUESTION_COLUMNS))
    if table.empty:
        return table
    return table.sort_values(["first_try", "mean_attempts"], ascending=[True, False], na_position="last").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------------------------
# Who is stuck, who is where
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stuck:
    """A learner who needs help: `reason` is `failed_attempts` (at `item`) or `no_progress` (for `minutes`)."""

    learner: str
    reason: str
    chapter: str | None
    item: str | None
    text: str
    attempts: int
    last_answer: str
    since: float | None  # last attempt at the item, or last success (None: never succeeded)
    minutes: int = 0


def describe_answer(exercises: ChapterExercises, item: str, answer: object, lang: str) -> str:
    """What the learner last tried, readable: the options they chose, or what the check found."""
    question = next((q for q in exercises.quiz if q.id == item), None)
    if question is not None and isinstance(answer, list):
        chosen = [
            pick(question.options[i], lang) for i in answer if isinstance(i, int) and 0 <= i < len(question.options)
        ]
        return _shorten(" ; ".join(chosen) if lang == "fr" else "; ".join(chosen))
    if answer in (None, {}, [], ""):
        return ""
    if isinstance(answer, dict):
        return _shorten(", ".join(f"{k}: {_plain(v)}" for k, v in answer.items()))
    return _shorten(_plain(answer))


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _shorten(text: str) -> str:
    return text if len(text) <= ANSWER_CHARS else text[: ANSWER_CHARS - 1] + "…"


def stuck_learners(
    snapshot: ClassSnapshot,
    lang: str,
    idle_minutes: float = IDLE_MINUTES,
    present_minutes: float = PRESENT_MINUTES,
    session_hours: float = SESSION_HOURS,
) -> list[Stuck]:
    """Learners who need help, most recent first.

    - `failed_attempts`: at least `STUCK_ATTEMPTS` failed attempts at one check (hands-on or checkpoint) never
      passed, with what they last tried (from the attempt log);
    - `no_progress`: here now (seen in the last `present_minutes`), here for at least `idle_minutes` during
      this session (first visit or attempt between `session_hours` ago and `idle_minutes` ago), and no success
      in the last `idle_minutes` (successes read from the attempt log).
    """
    tries: dict[tuple[str, str, str], list[Attempt]] = {}
    for attempt in snapshot.log:
        tries.setdefault((attempt.learner, attempt.chapter, attempt.item), []).append(attempt)
    found: list[Stuck] = []
    for learner in snapshot.learners:
        for key, exercises in snapshot.exercises.items():
            for item, p in snapshot.chapter_items(learner, key).items():
                logged = tries.get((learner, key, item), [])
                failed = sum(not a.correct for a in logged) if logged else p.attempts  # older stores: no log
                if p.completed or failed < STUCK_ATTEMPTS:
                    continue
                last = logged[-1] if logged else None
                answer = last.answer if last is not None else p.answer
                found.append(
                    Stuck(
                        learner,
                        "failed_attempts",
                        key,
                        item,
                        item_text(exercises, item, lang),
                        failed,
                        describe_answer(exercises, item, answer, lang),
                        last.at if last is not None else p.updated_at,
                    )
                )
        idle = _idle(snapshot, learner, lang, idle_minutes, present_minutes, session_hours)
        if idle is not None:
            found.append(idle)
    return sorted(found, key=lambda s: -(s.since or 0))


def _idle(
    snapshot: ClassSnapshot, learner: str, lang: str, idle_minutes: float, present_minutes: float, hours: float
) -> Stuck | None:
    """The `no_progress` entry of a learner, or None."""
    now = snapshot.taken_at
    seen = snapshot.last_seen(learner)
    if seen is None or now - seen > present_minutes * 60:
        return None
    chapters = snapshot.items.get(learner, {})
    log = [a for a in snapshot.log if a.learner == learner]
    stamps = [*snapshot.visits.get(learner, {}).values()] + [a.at for a in log]
    stamps += [p.updated_at for c in chapters.values() for p in c.values()]
    here_since = min((s for s in stamps if s >= now - hours * 3600), default=now)
    if now - here_since < idle_minutes * 60:
        return None
    successes = [a.at for a in log if a.correct]
    successes += [p.updated_at for c in chapters.values() for p in c.values() if p.last_correct]
    last_success = max(successes, default=None)
    if last_success is not None and now - last_success < idle_minutes * 60:
        return None
    chapter = max(snapshot.visits.get(learner, {}).items(), key=lambda kv: kv[1], default=(None, 0.0))[0]
    tried = ""
    if log:
        latest = log[-1]
        tried = describe_answer(snapshot.exercises[latest.chapter], latest.item, latest.answer, lang)
    elif chapters:
        key, item, p = max(
            ((key, item, p) for key, c in chapters.items() for item, p in c.items()), key=lambda t: t[2].updated_at
        )
        tried = describe_answer(snapshot.exercises[key], item, p.answer, lang)
    minutes = int((now - (last_success if last_success is not None else here_since)) // 60)
    return Stuck(learner, "no_progress", chapter, None, "", 0, tried, last_success, minutes)


@dataclass(frozen=True)
class Presence:
    """Where a learner is: the chapter they opened or answered in last, and when they were last seen."""

    learner: str
    chapter: str | None
    last_seen: float | None
    present: bool


def live_view(snapshot: ClassSnapshot, present_minutes: float = PRESENT_MINUTES) -> list[Presence]:
    """Who is on which chapter now: the present learners first, most recently seen first."""
    out = []
    for learner in snapshot.learners:
        stamps = [*snapshot.visits.get(learner, {}).items()]
        stamps += [(key, p.updated_at) for key, c in snapshot.items.get(learner, {}).items() for p in c.values()]
        chapter = max(stamps, key=lambda kv: kv[1])[0] if stamps else None
        seen = snapshot.last_seen(learner)
        present = seen is not None and snapshot.taken_at - seen <= present_minutes * 60
        out.append(Presence(learner, chapter, seen, present))
    return _by_presence(out)


def live_presence(
    store: ProgressStore, learners: Iterable[str], now: float | None = None, present_minutes: float = PRESENT_MINUTES
) -> list[Presence]:
    """The live view read in ONE query (`ProgressStore.activity`), for the dashboard's refresh every few seconds."""
    now = time.time() if now is None else now
    latest: dict[str, tuple[str, float]] = {}
    for visit in store.activity():  # most recent first: the first row of a learner is where they are
        latest.setdefault(visit.learner, (visit.chapter, visit.visited_at))
    out = []
    for learner in dict.fromkeys(learners):
        chapter, seen = latest.get(learner, (None, None))
        out.append(Presence(learner, chapter, seen, seen is not None and now - seen <= present_minutes * 60))
    return _by_presence(out)


def _by_presence(presence: list[Presence]) -> list[Presence]:
    return sorted(presence, key=lambda p: (not p.present, -(p.last_seen or 0), p.learner))


# --------------------------------------------------------------------------------------------
# One learner
# --------------------------------------------------------------------------------------------

LEARNER_COLUMNS = (
    "chapter",
    "item",
    "kind",
    "text",
    "attempts",
    "completed",
    "first_correct",
    "last_answer",
    "updated_at",
    "solution_seen",
)


def learner_detail(snapshot: ClassSnapshot, learner: str, lang: str) -> pd.DataFrame:
    """Every item a learner tried (practice questions too): attempts, done, right at the first try, what they last
    answered, when."""
    rows = []
    for key, exercises in snapshot.exercises.items():
        order = {
            item: n for n, item in enumerate(dict.fromkeys([*exercises.item_ids, *(q.id for q in exercises.quiz)]))
        }
        items = {k: v for k, v in snapshot.items.get(learner, {}).get(key, {}).items() if k in order}
        for item, p in sorted(items.items(), key=lambda kv: order[kv[0]]):
            rows.append(
                {
                    "chapter": key,
                    "item": item,
                    "kind": p.kind,
                    "text": item_text(exercises, item, lang),
                    "attempts": p.attempts,
                    "completed": p.completed,
                    "first_correct": p.first_correct,
                    "last_answer": describe_answer(exercises, item, p.answer, lang),
                    "updated_at": p.updated_at,
                    "solution_seen": p.solution_seen,
                }
            )
    return pd.DataFrame(rows, columns=list(LEARNER_COLUMNS))


@dataclass(frozen=True)
class LearnerTracking:
    """A learner's MLflow work: their runs (newest first) and the aliases of their registered model."""

    model_name: str
    runs: pd.DataFrame
    aliases: dict[str, int]


def learner_tracking(learner: str, settings=None, max_runs: int = 50) -> LearnerTracking:
    """The learner's runs (tagged with their name) and their registered model's aliases, from MLflow.

    Raises:
        TrackingError: the MLflow store cannot be read (the message says why).
    """
    from workbench.core.settings import get_settings
    from workbench.core.tracking import TrackingError, registry_client, search_runs

    settings = settings or get_settings()
    name = settings.learner_model_name(learner)
    try:
        runs = search_runs(learner=learner, max_results=max_runs, settings=settings)
        try:
            model = registry_client(settings).get_registered_model(name)
            found = {alias: int(version) for alias, version in (model.aliases or {}).items()}
        except Exception as exc:  # noqa: BLE001 - "not registered yet" is an answer, anything else is raised
            if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
                raise
            found = {}
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError("registry_unavailable", reason=f"{type(exc).__name__}: {exc}"[:300]) from exc
    return LearnerTracking(name, runs, found)
