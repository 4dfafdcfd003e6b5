"""Question pools: every chapter's quiz is big enough, bilingual, mapped to what the lesson teaches, unbiased.

Each `lessons/exercises/NN_slug.yaml` names what its quiz tests in a `targets` block: an id per objective
(front matter) and per point of « À retenir », each with a fragment of the French text that finds it. Every
question lists the ids it tests in `tests: [objective:<id>, point:<id>]` (see lessons/README.md).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest
import yaml
from workbench.chapters import CHAPTERS
from workbench.core.exercises import load_exercises
from workbench.core.lessons import TAKEAWAYS_TITLES, fold, load_lesson
from workbench.core.settings import LANGUAGES, get_settings

from tests.conftest import REPO_ROOT

MIN_QUESTIONS = 12
MAX_POSITION_SHARE = 0.35
MAX_LONGEST_SHARE = 0.40
TARGET_KINDS = {"objective": "objectives", "point": "points"}


@cache
def _raw(chapter_key: str) -> dict:
    path = get_settings().lessons_dir / "exercises" / f"{chapter_key}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def takeaways(chapter_key: str, lang: str) -> list[str]:
    """The points of a lesson's « À retenir » / « Key takeaways » section, one string per bullet."""
    lesson = load_lesson(chapter_key, lang)
    section = next(s for s in lesson.sections if s.title.startswith(TAKEAWAYS_TITLES[lang]))
    points: list[str] = []
    for line in section.body.splitlines():
        if line.startswith(("- ", "* ")):
            points.append(line[2:].strip())
        elif line.strip() and points:
            points[-1] += " " + line.strip()
    return points


def mapping_problems(data: dict, objectives: list[str], points: list[str]) -> list[str]:
    """What is wrong with a chapter's `targets` and its questions' `tests` (empty when complete and valid)."""
    problems: list[str] = []
    targets = data.get("targets") or {}
    known: set[str] = set()
    for kind, block in TARGET_KINDS.items():
        texts = objectives if kind == "objective" else points
        hits: Counter[int] = Counter()
        for tid, fragment in (targets.get(block) or {}).items():
            found = [i for i, text in enumerate(texts) if fold(str(fragment)) in fold(text)]
            if len(found) != 1:
                problems.append(f"{kind}:{tid}: fragment {fragment!r} finds {len(found)} {block}, not exactly one")
            hits.update(found)
            known.add(f"{kind}:{tid}")
        for i, text in enumerate(texts):
            if hits[i] != 1:
                problems.append(f"{kind} {text[:60]!r} has {hits[i]} target ids, not exactly one")
    used: set[str] = set()
    for question in data.get("quiz") or []:
        tests = question.get("tests") or []
        if not tests:
            problems.append(f"question {question.get('id')}: no 'tests'")
        for ref in tests:
            if ref not in known:
                problems.append(f"question {question.get('id')}: unknown target {ref!r}")
            used.add(ref)
    problems += [f"{ref}: no question tests it" for ref in sorted(known - used)]
    return problems


def bias(questions: list[dict]) -> tuple[float, dict[str, float]]:
    """Over single-choice questions: the largest share of one answer position, and per language the share
    of questions whose right option is strictly the longest."""
    singles = [q for q in questions if q.get("kind", "single") == "single"]
    positions = Counter(q["answer"][0] for q in singles)
    longest = {}
    for lang in LANGUAGES:
        count = 0
        for q in singles:
            lengths = [len(str(o[lang])) for o in q["options"]]
            right = q["answer"][0]
            count += all(lengths[right] > n for i, n in enumerate(lengths) if i != right)
        longest[lang] = count / len(singles)
    return max(positions.values()) / len(singles), longest


def text_problems(question: dict) -> list[str]:
    """Missing French or English texts, invalid answers, multiple-choice options without their `why`."""
    qid = question.get("id")
    problems: list[str] = []
    texts = [("prompt", question.get("prompt")), ("explanation", question.get("explanation"))]
    options = question.get("options") or []
    texts += [(f"option {i}", o) for i, o in enumerate(options)]
    if question.get("kind") == "multiple":
        texts += [(f"option {i} why", o.get("why")) for i, o in enumerate(options)]
    for where, value in texts:
        if not isinstance(value, dict) or any(not str(value.get(lang) or "").strip() for lang in LANGUAGES):
            problems.append(f"{qid} {where}: needs a text in each of {LANGUAGES}")
    answer = question.get("answer") or []
    if not answer or any(not isinstance(i, int) or not 0 <= i < len(options) for i in answer):
        problems.append(f"{qid}: answer {answer} is not a list of option positions")
    if len(set(answer)) != len(answer):
        problems.append(f"{qid}: answer {answer} repeats a position")
    return problems


def all_questions() -> list[dict]:
    """Every question of the course."""
    return [q for chapter in CHAPTERS for q in _raw(chapter.key).get("quiz") or []]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_each_chapter_has_a_pool_of_at_least_twelve_questions(chapter) -> None:
    assert len(load_exercises(chapter.key).quiz) >= MIN_QUESTIONS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_every_text_exists_in_french_and_english_and_every_answer_is_valid(chapter) -> None:
    problems = [p for q in _raw(chapter.key)["quiz"] for p in text_problems(q)]
    assert problems == []
    ids = [q["id"] for q in _raw(chapter.key)["quiz"]] + [h["id"] for h in _raw(chapter.key).get("hands_on") or []]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.key)
def test_every_objective_and_point_to_remember_is_tested(chapter) -> None:
    objectives = list(load_lesson(chapter.key, "fr").objectives)
    points = takeaways(chapter.key, "fr")
    assert len(load_lesson(chapter.key, "en").objectives) == len(objectives)
    assert len(takeaways(chapter.key, "en")) == len(points)
    assert mapping_problems(_raw(chapter.key), objectives, points) == []


def test_no_answer_position_dominates_and_the_right_option_is_rarely_the_longest() -> None:
    questions = all_questions()
    position_share, longest = bias(questions)
    singles = [q["answer"][0] for q in questions if q.get("kind", "single") == "single"]
    shares = {pos: f"{n / len(singles):.0%}" for pos, n in sorted(Counter(singles).items())}
    assert position_share <= MAX_POSITION_SHARE, f"right answers per position: {shares}"
    assert max(longest.values()) <= MAX_LONGEST_SHARE, f"right option strictly the longest: {longest}"


# The rules themselves catch what they are meant to catch.


def _q(qid: str, answer: list[int], options: tuple[str, ...] = ("aa", "bb", "cc"), **extra) -> dict:
    return {
        "id": qid,
        "kind": extra.pop("kind", "single"),
        "answer": answer,
        "prompt": {"fr": "Question ?", "en": "Question?"},
        "explanation": {"fr": "Car.", "en": "Because."},
        "options": [{"fr": o, "en": o} for o in options],
        **extra,
    }


def test_bias_sees_a_dominant_position_and_a_longest_right_option() -> None:
    assert bias([_q("a", [1]), _q("b", [1]), _q("c", [0])])[0] == pytest.approx(2 / 3)
    share = bias([_q("a", [2], ("a", "b", "long")), _q("b", [0], ("a", "bb", "cc"))])[1]
    assert share == {"fr": 0.5, "en": 0.5}
    assert bias([_q("a", [2], ("a", "long", "long"))])[1]["fr"] == 0  # a tie is not "strictly longest"


def test_text_problems_catch_missing_language_bad_answer_and_missing_why() -> None:
    assert text_problems(_q("ok", [0])) == []
    assert text_problems(_q("x", [3]))
    assert text_problems(_q("x", [0, 0], kind="multiple"))
    broken = _q("x", [0])
    broken["options"][1] = {"fr": "seulement"}
    assert text_problems(broken)
    multiple = _q("m", [0, 1], kind="multiple")
    assert any("why" in p for p in text_problems(multiple))
    for option in multiple["options"]:
        option["why"] = {"fr": "Parce que.", "en": "Because."}
    assert text_problems(multiple) == []


def test_mapping_problems_catch_every_kind_of_gap() -> None:
    objectives, points = ["Suivre des expériences", "Promouvoir un modèle"], ["Les alias remplacent les stages."]
    good = {
        "targets": {"objectives": {"track": "suivre", "promote": "promouvoir"}, "points": {"alias": "ALIAS"}},
        "quiz": [{"id": "a", "tests": ["objective:track", "point:alias"]}, {"id": "b", "tests": ["objective:promote"]}],
    }
    assert mapping_problems(good, objectives, points) == []
    untested = {**good, "quiz": good["quiz"][:1]}
    assert any("objective:promote" in p for p in mapping_problems(untested, objectives, points))
    unknown = {**good, "quiz": [*good["quiz"], {"id": "c", "tests": ["point:nope"]}]}
    assert any("unknown" in p for p in mapping_problems(unknown, objectives, points))
    untied = {**good, "quiz": [*good["quiz"], {"id": "c"}]}
    assert any("no 'tests'" in p for p in mapping_problems(untied, objectives, points))
    ambiguous = {**good, "targets": {**good["targets"], "objectives": {"track": "e", "promote": "promouvoir"}}}
    assert any("not exactly one" in p for p in mapping_problems(ambiguous, objectives, points))
    new_point = mapping_problems(good, objectives, [*points, "Un nouveau point."])
    assert any("Un nouveau point" in p for p in new_point)


# Currency: the quiz teaches what is right today (issue 17's quiz side).

DEPRECATED = {
    r"kubectl get endpoints\b(?!lices)": "the v1 Endpoints API is deprecated since Kubernetes 1.33",
    r"transition_model_version_stage|\"Production\" stage|stage « Production »": "MLflow stages are deprecated",
    r"--no-conda": "MLflow projects choose with --env-manager",
    r"docker-compose up": "Compose v2 is `docker compose`",
    r"gcr\.io/(?!cloud-builders)": "Container Registry is shut down",
}


def _texts(question: dict, right_only: bool = False) -> list[str]:
    """The question's texts in both languages (only its right options when `right_only`)."""
    options = question["options"]
    if right_only:
        return [str(options[i][lang]) for i in question["answer"] for lang in LANGUAGES]
    parts = [question["prompt"], question["explanation"], *options, *(o.get("why") or {} for o in options)]
    return [str(p[lang]) for p in parts for lang in LANGUAGES if lang in p]


def deprecated_in_answers(questions: list[dict]) -> list[str]:
    """Right options that teach a deprecated pattern, and any text that uses `kubectl get endpoints`."""
    found = []
    for q in questions:
        for pattern, why in DEPRECATED.items():
            texts = _texts(q) if pattern.startswith("kubectl") else _texts(q, right_only=True)
            if any(re.search(pattern, t) for t in texts):
                found.append(f"{q['id']}: {why}")
    return found


def test_no_right_answer_teaches_a_deprecated_pattern() -> None:
    assert deprecated_in_answers(all_questions()) == []
    stage = _q("s", [0], ('`client.transition_model_version_stage("m", 3, "Production")`', "alias"))
    assert deprecated_in_answers([stage])
    endpoints = _q("e", [1], ("a", "b"))
    endpoints["explanation"]["fr"] = "Lancez `kubectl get endpoints loan-api`."
    assert deprecated_in_answers([endpoints])
    assert not deprecated_in_answers([_q("ok", [0], ("`kubectl get endpointslices -l x`", "b"))])


def action_majors_disagreeing(questions: list[dict], workflows: str) -> list[str]:
    """`actions/x@vN` quoted by the quiz with another major than the project's own workflows use."""
    pinned = dict(re.findall(r"uses:\s*(actions/[\w-]+)@(v\d+)", workflows))
    quoted = {m for q in questions for t in _texts(q) for m in re.findall(r"(actions/[\w-]+)@(v\d+)", t)}
    return sorted(f"{a}@{v} (project: {pinned[a]})" for a, v in quoted if pinned.get(a, v) != v)


def test_github_actions_majors_match_the_project_workflow() -> None:
    workflows = "".join(p.read_text() for p in (REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert action_majors_disagreeing(all_questions(), workflows) == []
    old_major = _q("a", [0], ("`uses: actions/checkout@v3`", "b"))
    assert action_majors_disagreeing([old_major], "uses: actions/checkout@v5")


@cache
def _api_openapi() -> dict:
    from workbench.api import create_app

    return create_app(get_settings()).openapi()


#: The endpoints of MLflow's own scoring server (`mlflow models serve`), for the questions about it.
MLFLOW_SCORING_PATHS = {"/invocations", "/ping", "/health", "/version"}


def test_every_api_endpoint_the_quiz_names_exists() -> None:
    paths = set(_api_openapi()["paths"]) | {"/docs", "/redoc"}
    unknown, named = set(), set()
    for q in all_questions():
        texts = _texts(q)
        known = paths | (MLFLOW_SCORING_PATHS if any("mlflow models serve" in t for t in texts) else set())
        found = {m.split("?")[0] for t in texts for m in re.findall(r"`(?:GET |POST )?(/[a-z_/]+[^` ]*)`", t)}
        named |= found
        unknown |= {f"{q['id']}: {path}" for path in found - known}
    assert named and sorted(unknown) == []


def test_predict_and_predict_status_are_described_as_the_api_answers() -> None:
    spec = _api_openapi()

    def fields(path: str) -> set[str]:
        ref = spec["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return set(spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"])

    question = next(q for q in _raw("07_web_apps_api")["quiz"] if q["id"] == "predict-vs-predict-status")
    described = {w for t in _texts(question) for w in re.findall(r"`([a-z_]+)`", t)}
    assert described and described <= fields("/predict") | fields("/predict_status")
    assert fields("/predict_status") <= described
