"""The project's own pipeline files: .github/workflows/ci.yml and Jenkinsfile."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.lessons import load_annotations
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# The project's own pipeline files: .github/workflows/ci.yml and Jenkinsfile
# --------------------------------------------------------------------------------------------

WORKFLOW = ".github/workflows/ci.yml"
JENKINSFILE = "Jenkinsfile"
CI_RUN = ".ci/run"


@dataclass(frozen=True)
class FileBlock:
    """A piece of a pipeline file (a workflow step, a Jenkins stage or directive) with its explanation."""

    key: str
    title: str
    code: str
    line: int
    note: dict[str, str] | None


def annotations(settings: Settings) -> dict:
    """The explanations of the pipeline files (lessons/annotations/cicd.yaml), by file then key."""
    return load_annotations("cicd", settings.lessons_dir)


def read_project_file(settings: Settings, name: str) -> str:
    """One of the project's CI files (WORKFLOW, JENKINSFILE, CI_RUN)."""
    if name not in (WORKFLOW, JENKINSFILE, CI_RUN):
        raise KeyError(name)
    return (settings.repo_root / name).read_text(encoding="utf-8")


def load_workflow(text: str) -> dict:
    """The workflow YAML as a dict; PyYAML reads the key `on` as True, put back here as "on"."""
    import yaml

    data = yaml.safe_load(text) or {}
    if True in data:
        data["on"] = data.pop(True)
    return data


def source_block(lines: list[str], start: int, stop_at: tuple[str, ...] = ()) -> str:
    """The YAML source of the node starting at `lines[start]` (0-based), comments kept, dedented.

    The node ends before the next non-blank, non-comment line indented as much as its first line or less
    (for a list item, as much as its `-`), or before a line whose stripped text starts with `stop_at`.
    """
    first = lines[start]
    indent = len(first) - len(first.lstrip())
    end = start + 1
    while end < len(lines):
        raw = lines[end]
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            if len(raw) - len(raw.lstrip()) <= indent or stripped.startswith(stop_at or ("\0",)):
                break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join(line[indent:] if not line[:indent].strip() else line.lstrip() for line in lines[start:end])


def workflow_blocks(text: str, notes: dict) -> list[FileBlock]:
    """Top-level keys, job settings and each step of a GitHub Actions workflow (steps keyed by `id`),
    each shown as its own source lines."""
    import re

    data = load_workflow(text)
    lines = text.splitlines()

    def index_of(pattern: str) -> int | None:
        regex = re.compile(pattern)
        return next((i for i, raw in enumerate(lines) if regex.match(raw)), None)

    blocks = []
    for key in ("name", "on", "permissions", "concurrency"):
        at = index_of(rf"^{key}:")
        if key in data and at is not None:
            blocks.append(FileBlock(key, key, source_block(lines, at), at + 1, notes.get(key)))
    for job_name, job in (data.get("jobs") or {}).items():
        at = index_of(rf"^\s+{re.escape(job_name)}:")
        if at is not None:
            code = source_block(lines, at, stop_at=("steps:",))
            blocks.append(FileBlock("job", f"jobs.{job_name}", code, at + 1, notes.get("job")))
        for step in job.get("steps") or []:
            key = str(step.get("id", ""))
            title = str(step.get("name") or step.get("uses") or key)
            at = index_of(rf"^\s*- id: {re.escape(key)}\s*$") if key else None
            code = source_block(lines, at) if at is not None else ""
            blocks.append(FileBlock(key, title, code, 0 if at is None else at + 1, notes.get(key)))
    return blocks


def _block_end(text: str, open_brace: int) -> int:
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def jenkinsfile_blocks(text: str, notes: dict) -> list[FileBlock]:
    """The directives (agent, options, environment, post) and each `stage('…')` of a declarative Jenkinsfile."""
    import re

    blocks = []
    pattern = re.compile(r"^\s*(agent|options|environment|stage\('([^']+)'\)|post)\s*(\{|\S.*)?$", re.M)
    for match in pattern.finditer(text):
        directive, stage = match.group(1), match.group(2)
        start = text.rfind("\n", 0, match.start(1)) + 1  # `\s*` may have swallowed blank lines before
        brace = text.find("{", match.end(1))
        line_end = text.find("\n", match.end(1))
        if brace != -1 and (line_end == -1 or brace < line_end):
            end = _block_end(text, brace)
        else:
            end = line_end if line_end != -1 else len(text)
        code = text[start:end]
        indent = match.start(1) - start
        code = "\n".join(line[indent:] if line.startswith(" " * indent) else line for line in code.splitlines())
        key = f"stage:{stage}" if stage else directive
        line = text.count("\n", 0, start) + 1
        blocks.append(FileBlock(key, stage or directive, code.strip("\n"), line, notes.get(key)))
    return blocks


def jenkins_stages(text: str) -> list[str]:
    """The names of the stages of a declarative Jenkinsfile, in order."""
    import re

    return re.findall(r"stage\('([^']+)'\)", text)


def project_file_blocks(settings: Settings, name: str) -> list[FileBlock]:
    """The explained blocks of WORKFLOW or JENKINSFILE."""
    notes = annotations(settings)
    text = read_project_file(settings, name)
    if name == WORKFLOW:
        return workflow_blocks(text, notes.get("github_actions", {}))
    return jenkinsfile_blocks(text, notes.get("jenkins", {}))


def missing_annotations(settings: Settings) -> list[str]:
    """Blocks of the project's pipeline files that have no explanation (must stay empty)."""
    return [
        f"{name}: {b.key}"
        for name in (WORKFLOW, JENKINSFILE)
        for b in project_file_blocks(settings, name)
        if b.note is None
    ]
