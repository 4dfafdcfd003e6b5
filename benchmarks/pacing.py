"""Pacing: reading, lab and exercise minutes per chapter, measured by doing the chapter.

* reading: the lesson's words and code lines (FR and EN) at the rates documented in `workbench.core.pacing`
  (`WORDS_PER_MINUTE`: Carver's "learning" rate, 200 wpm in English, 171 wpm in French; 5 s per code line);
* lab: the chapter's page is opened from `app/Home.py` with Streamlit's AppTest in a fresh state (its own MLflow
  store, progress database, API port) and every lab button is clicked once, in page order, over up to
  `--passes` passes (buttons a click reveals are clicked in the next pass); each click's rerun is timed, so the
  real computations behind it count (training, MLflow logging and registry, the API process and its calls,
  builds, git/pytest, drift reports, attacks). Each input widget of the lab (slider, select box, text…) counts as
  one more action, timed as one rerun of the page (what a change costs; the script keeps the default values).
  Lab = measured seconds + `ACTION_MINUTES` (1 min) per action for the learner's own reading and typing. Buttons of the exercise panel (checks, quiz, checkpoint), resets,
  deletions, stops and "prepare" are not lab work and are left out. Chapters that serve the learner's
  `@production` model (VII, VIII, X) get one first, as chapter V would have left it (not timed);
* exercises: every practice question read (prompt, options, explanations) and answered, the checkpoint's
  questions answered, each hands-on check's instructions read plus 2 min to run it and read its verdict.

Lab timings vary with the machine (2 shared cores here); word counts do not. `--write` puts
`minutes: {reading: R, lab: L, exercises: E}` into every lesson's front matter (reading and exercises per
language, lab the same in both); `--lab-json` keeps or reuses the lab measurement.

Usage: python benchmarks/pacing.py [--chapters 05_mlflow,07_web_apps_api] [--no-lab] [--write]
                                   [--lab-json benchmarks/pacing_lab.json] [--reuse-lab] [--api-port 8741]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOME = str(REPO / "app" / "Home.py")
#: Button keys that are not lab work: the exercise panel's checks and quiz, resets, deletions, stops, "prepare".
NOT_LAB = ("_check", "_submit", "_answer", "checkpoint", "reset", "delete", "remove", "_stop", "prepare", "solution")
#: The input widgets a learner sets in a lab (each counted as one action, timed as the page rerun a change causes).
INPUTS = (
    "slider", "select_slider", "selectbox", "multiselect", "number_input", "text_input", "text_area", "radio",
    "checkbox", "toggle", "date_input", "time_input", "color_picker",
)  # fmt: skip


@dataclass
class Click:
    """One lab action: the button, how long its rerun took, and the last error box the page showed after it (often
    the lab's intended outcome: a broken manifest reported, a rollback refused when there is nothing to go back to)."""

    key: str
    label: str
    seconds: float
    error: str = ""


@dataclass
class LabRun:
    """A chapter's lab as the script did it."""

    chapter_key: str
    clicks: list[Click] = field(default_factory=list)
    open_seconds: float = 0.0

    @property
    def compute_seconds(self) -> float:
        """The time the clicks' computations took."""
        return sum(c.seconds for c in self.clicks)


def _is_lab(key: str | None, prefix: str) -> bool:
    return bool(key) and key.startswith(f"{prefix}_") and not any(word in key for word in NOT_LAB)


def run_lab(chapter_key: str, passes: int, timeout: float) -> LabRun:
    """Open the chapter with AppTest and click each lab button once; time every click."""
    from streamlit.testing.v1 import AppTest
    from workbench.chapters import get_chapter

    prefix = get_chapter(chapter_key).prefix
    run = LabRun(chapter_key)
    at = AppTest.from_file(HOME, default_timeout=timeout)
    at.session_state["lang"] = "en"
    start = time.perf_counter()
    at.run()
    at.switch_page(f"../pages/{chapter_key}.py")
    at.run()
    run.open_seconds = time.perf_counter() - start
    clicked: set[str] = set()
    for _ in range(passes):
        todo = [b for b in at.button if _is_lab(b.key, prefix) and b.key not in clicked and not b.disabled]
        if not todo:
            break
        for button in todo:
            key = button.key
            current = [b for b in at.button if b.key == key and not b.disabled]
            clicked.add(key)
            if not current:  # an earlier click hid it
                continue
            errors_before = len(at.exception) + len(at.error)
            start = time.perf_counter()
            try:
                current[0].click().run()
                error = ""
            except Exception as exc:  # a timeout: the work took longer than `timeout`; record it and go on
                error = f"{type(exc).__name__}: {exc}"[:200]
            seconds = time.perf_counter() - start
            if not error and len(at.exception) + len(at.error) > errors_before:
                shown = [e.value for e in [*at.exception, *at.error]][-1]
                error = str(getattr(shown, "message", shown))[:200]
            run.clicks.append(Click(key, current[0].label, round(seconds, 2), error))
            print(f"  {chapter_key} {key:<40} {seconds:7.1f} s {error[:80]}", file=sys.stderr, flush=True)
    inputs = sorted({w.key for kind in INPUTS for w in getattr(at, kind) if _is_lab(w.key, prefix)})
    for key in inputs:  # the learner sets each control once: one rerun of the page each (its real cost)
        start = time.perf_counter()
        at.run()
        run.clicks.append(Click(key, "input", round(time.perf_counter() - start, 2)))
    print(f"  {chapter_key}: {len(inputs)} inputs", file=sys.stderr, flush=True)
    return run


def _fresh_state(api_port: int) -> Path:
    """A state dir of its own for the run (MLflow store, progress db), and the API on our port."""
    state = Path(tempfile.mkdtemp(prefix="pacing-"))
    os.environ.update(
        WORKBENCH_STATE_DIR=str(state),
        MLFLOW_TRACKING_URI=f"sqlite:///{state / 'mlflow.db'}",
        WORKBENCH_API_PORT=str(api_port),
        WORKBENCH_LEARNER="pacing",
    )
    from workbench.core.settings import get_settings

    get_settings.cache_clear()
    return state


def _ensure_production(chapter_key: str) -> None:
    """Chapters VII, VIII, X serve the learner's @production model: give them one as chapter V leaves it."""
    from workbench.chapters import get_chapter
    from workbench.core.data import load_course_data
    from workbench.core.pacing import NEEDS_PRODUCTION_MODEL, prepare_production_model
    from workbench.core.settings import get_settings

    if NEEDS_PRODUCTION_MODEL in get_chapter(chapter_key).prerequisites:
        settings = get_settings()
        prepare_production_model(settings, settings.learner, load_course_data(), chapter_key)


def measure_labs(keys: list[str], passes: int, timeout: float, api_port: int) -> dict[str, LabRun]:
    """Every chapter's lab, in course order, in one fresh state (chapter V's work is there for VII...)."""
    from workbench.core import api_client
    from workbench.core.settings import get_settings

    _fresh_state(api_port)
    runs = {}
    try:
        for key in keys:
            _ensure_production(key)
            runs[key] = run_lab(key, passes, timeout)
    finally:  # every service the labs started (the API, the MLflow UI...), by the records under our state dir
        from workbench.core import services

        settings = get_settings()
        api_client.stop(settings)
        for record in sorted((settings.state_dir / "services").glob("*.json")):
            services.stop(settings, record.stem)
    return runs


def main(argv: list[str] | None = None) -> int:
    from workbench.chapters import CHAPTERS
    from workbench.core.lessons import Minutes, lesson_path
    from workbench.core.pacing import ACTION_MINUTES, lab_minutes, measure_exercises, measure_reading, write_minutes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", default="", help="comma-separated chapter keys (default: all)")
    parser.add_argument("--no-lab", action="store_true", help="reading and exercises only")
    parser.add_argument("--reuse-lab", action="store_true", help="read the lab measurement from --lab-json")
    parser.add_argument("--lab-json", type=Path, default=REPO / "benchmarks" / "pacing_lab.json")
    parser.add_argument("--write", action="store_true", help="write the minutes into the lessons' front matter")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per click")
    parser.add_argument("--api-port", type=int, default=8741)
    args = parser.parse_args(argv)
    keys = [k for k in args.chapters.split(",") if k] or [c.key for c in CHAPTERS]

    labs: dict[str, dict] = {}
    if args.reuse_lab or args.no_lab:
        if args.lab_json.is_file():
            labs = json.loads(args.lab_json.read_text(encoding="utf-8"))
    if not args.no_lab and not args.reuse_lab:
        measured = measure_labs(keys, args.passes, args.timeout, args.api_port)
        stored = json.loads(args.lab_json.read_text(encoding="utf-8")) if args.lab_json.is_file() else {}
        for key, run in measured.items():
            stored[key] = {
                "compute_seconds": round(run.compute_seconds, 1),
                "actions": len(run.clicks),
                "open_seconds": round(run.open_seconds, 1),
                "clicks": [asdict(c) for c in run.clicks],
            }
        args.lab_json.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        labs = stored

    header = f"{'chapter':<26}{'words fr/en':>13}{'code':>6}{'read fr/en':>11}{'actions':>8}{'compute s':>10}"
    header += f"{'lab':>5}{'q/cp/hands':>12}{'exer fr/en':>11}{'total fr/en':>12}"
    print(header)
    totals = {"fr": [0, 0, 0], "en": [0, 0, 0]}
    for key in keys:
        reading = {lang: measure_reading(key, lang) for lang in ("fr", "en")}
        exercises = {lang: measure_exercises(key, lang) for lang in ("fr", "en")}
        lab_data = labs.get(key)
        lab = lab_minutes(lab_data["compute_seconds"], lab_data["actions"]) if lab_data else None
        minutes = {lang: Minutes(reading[lang].minutes, lab or 0, exercises[lang].minutes) for lang in ("fr", "en")}
        for lang in ("fr", "en"):
            totals[lang] = [
                a + b for a, b in zip(totals[lang], (minutes[lang].reading, lab or 0, minutes[lang].exercises))
            ]
            if args.write:
                if lab is None:
                    raise SystemExit(f"{key}: no lab measurement (run without --no-lab first)")
                write_minutes(lesson_path(key, lang), minutes[lang])
        e = exercises["en"]
        print(
            f"{key:<26}{reading['fr'].count.words:>6}/{reading['en'].count.words:<6}{reading['en'].count.code_lines:>6}"
            f"{reading['fr'].minutes:>6}/{reading['en'].minutes:<4}"
            f"{lab_data['actions'] if lab_data else '-':>8}{lab_data['compute_seconds'] if lab_data else '-':>10}"
            f"{lab if lab is not None else '-':>5}{f'{e.practice}/{e.checkpoint}/{e.hands_on}':>12}"
            f"{exercises['fr'].minutes:>6}/{exercises['en'].minutes:<4}"
            f"{minutes['fr'].total:>7}/{minutes['en'].total:<4}"
        )
    for lang in ("fr", "en"):
        r, lab_total, ex = totals[lang]
        total = r + lab_total + ex
        print(
            f"total {lang}: reading {r} min + lab {lab_total} min + exercises {ex} min = {total} min ({total / 60:.1f} h)"
        )
    print(f"(lab = measured compute seconds + {ACTION_MINUTES:g} min per action; rates in workbench/core/pacing.py)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
