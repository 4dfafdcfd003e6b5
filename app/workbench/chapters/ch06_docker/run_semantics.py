"""What `docker run IMAGE [ARGS]` executes from a Dockerfile, and which port it can be reached on.

Docker's rules, applied to the learner's own Dockerfile (chapter VI, CMD vs ENTRYPOINT, EXPOSE vs `-p`):
an exec-form ENTRYPOINT is the program and CMD its default arguments, which `docker run` arguments replace;
without ENTRYPOINT, `docker run` arguments replace the whole CMD; a shell-form ENTRYPOINT ignores both CMD
and the arguments. EXPOSE only documents a port: `-p HOST:CONTAINER` publishes it, and a server bound to
127.0.0.1 inside the container stays unreachable even when published.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from workbench.chapters.ch06_docker.deployfiles import dockerfile_stages, final_image, load_learner_dockerfile
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate

API_PROGRAMS = ("workbench.api", "uvicorn")  # what runs the prediction API
DEFAULT_PORT = 8000  # `python -m workbench.api` listens there unless told otherwise


def _words(code: str) -> list[str] | None:
    """The argument of CMD / ENTRYPOINT as a list: exec form (JSON) as is, shell form through `/bin/sh -c`."""
    argument = code.split(None, 1)[1].strip() if len(code.split(None, 1)) > 1 else ""
    if argument.startswith("["):
        try:
            words = json.loads(argument)
        except json.JSONDecodeError:
            return ["/bin/sh", "-c", argument]  # Docker runs an invalid JSON array as a shell command
        return [str(w) for w in words] if isinstance(words, list) else None
    return ["/bin/sh", "-c", argument] if argument else None


@dataclass(frozen=True)
class ImageConfig:
    """The final image's start-up configuration."""

    entrypoint: list[str] | None
    cmd: list[str] | None
    env: dict[str, str]
    exposed: frozenset[int]

    @property
    def shell_entrypoint(self) -> bool:
        """True when ENTRYPOINT is in shell form (CMD and `docker run` arguments are then ignored)."""
        return bool(self.entrypoint) and self.entrypoint[:2] == ["/bin/sh", "-c"]

    def command(self, args: list[str] | None = None) -> list[str]:
        """What the container executes for `docker run IMAGE *args`."""
        args = list(args or [])
        if self.entrypoint:
            if self.shell_entrypoint:
                return list(self.entrypoint)
            return [*self.entrypoint, *(args or self.cmd or [])]
        return args or list(self.cmd or [])


def image_config(text: str) -> ImageConfig:
    """Read ENTRYPOINT, CMD, ENV and EXPOSE of the final image (the last stage and the stages it builds on)."""
    stages = dockerfile_stages(text)
    if not stages:
        return ImageConfig(None, None, {}, frozenset())
    _, instructions = final_image(stages)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: dict[str, str] = {}
    exposed: set[int] = set()
    stage_of = {line: n for n, stage in enumerate(stages) for line, _, _ in stage.instructions}
    stage, cmd_set = None, False
    for line, key, code in instructions:
        if stage_of.get(line) != stage:  # a new stage of the chain: CMD not set in it yet
            stage, cmd_set = stage_of.get(line), False
        if key == "ENTRYPOINT":
            entrypoint = _words(code)
            if not cmd_set:  # like BuildKit: ENTRYPOINT resets a CMD inherited from an earlier stage or image
                cmd = None
        elif key == "CMD":
            cmd, cmd_set = _words(code), True
        elif key == "ENV":
            env.update(_env_pairs(code))
        elif key == "EXPOSE":
            for word in code.split()[1:]:
                port = word.split("/")[0]
                if port.isdigit():
                    exposed.add(int(port))
    return ImageConfig(entrypoint, cmd, env, frozenset(exposed))


def _env_pairs(code: str) -> dict[str, str]:
    try:
        words = shlex.split(code.replace("\\\n", " "))[1:]
    except ValueError:
        return {}
    if len(words) >= 2 and "=" not in words[0]:  # legacy `ENV NAME value`
        return {words[0]: " ".join(words[1:])}
    return dict(w.split("=", 1) for w in words if "=" in w)


def runs_api(command: list[str]) -> bool:
    """True when the command starts the prediction API."""
    return any(program in " ".join(command) for program in API_PROGRAMS)


def _option(command: list[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` in a command (the last one wins)."""
    value = None
    words = command if command[:2] != ["/bin/sh", "-c"] else shlex.split(command[2])
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith(name + "="):
            value = word.split("=", 1)[1]
    return value


def listening(config: ImageConfig, args: list[str] | None = None) -> tuple[str, int | None]:
    """The address and port the API listens on inside the container (None when the port is not a number)."""
    command = config.command(args)
    host = _option(command, "--host") or config.env.get("WORKBENCH_API_HOST", "127.0.0.1")
    port = _option(command, "--port") or config.env.get("WORKBENCH_API_PORT", str(DEFAULT_PORT))
    return host, int(port) if str(port).isdigit() else None


def _learner_config(ctx: CheckContext) -> ImageConfig | None:
    text = load_learner_dockerfile(ctx.settings, ctx.learner)
    return None if text is None else image_config(text)


def check_entrypoint_cmd(ctx: CheckContext, other_port: int = 9001) -> CheckResult:
    """Passed when `docker run IMAGE --port N` still starts the API, on port N: the program is an exec-form
    ENTRYPOINT and CMD holds only its default arguments."""
    lang = ctx.lang
    config = _learner_config(ctx)
    if config is None:
        return failed(translate("docker.check_no_file", lang))
    default = config.command()
    overridden = config.command(["--port", str(other_port)])
    evidence = {"default": default, "with_args": overridden}
    missing = []
    if not config.entrypoint:
        missing.append(translate("docker_run.need_entrypoint", lang))
    elif config.shell_entrypoint:
        missing.append(translate("docker_run.shell_entrypoint", lang))
    elif not runs_api(config.entrypoint):
        missing.append(translate("docker_run.entrypoint_not_api", lang, command=shlex.join(config.entrypoint)))
    if not config.cmd:
        missing.append(translate("docker_run.need_cmd_args", lang))
    elif config.entrypoint and runs_api(config.cmd):
        missing.append(translate("docker_run.cmd_repeats_program", lang, command=shlex.join(config.cmd)))
    if not missing and not (runs_api(overridden) and listening(config, ["--port", str(other_port)])[1] == other_port):
        missing.append(translate("docker_run.override_lost", lang, command=shlex.join(overridden)))
    if missing:
        return failed(*missing, evidence=evidence)
    return passed(
        translate(
            "docker_run.entrypoint_ok", lang, default=shlex.join(default), port=other_port, other=shlex.join(overridden)
        ),
        evidence=evidence,
    )


def check_expose_publish(ctx: CheckContext) -> CheckResult:
    """Passed when the API listens on all interfaces, on a port the image EXPOSEs; the verdict gives the
    `docker run -p` that publishes it (EXPOSE documents, `-p` publishes)."""
    lang = ctx.lang
    config = _learner_config(ctx)
    if config is None:
        return failed(translate("docker.check_no_file", lang))
    command = config.command()
    if not runs_api(command):
        return failed(translate("docker_run.not_api", lang, command=shlex.join(command) or "—"))
    host, port = listening(config)
    evidence = {"host": host, "port": port, "exposed": sorted(config.exposed)}
    missing = []
    if host not in ("0.0.0.0", "::"):
        missing.append(translate("docker_run.loopback", lang, host=host))
    if port is None:
        missing.append(translate("docker_run.port_unknown", lang))
    elif port not in config.exposed:
        shown = ", ".join(map(str, sorted(config.exposed))) or "—"
        missing.append(translate("docker_run.not_exposed", lang, port=port, exposed=shown))
    if missing:
        return failed(*missing, evidence=evidence)
    return passed(translate("docker_run.expose_ok", lang, port=port, host_port=8080), evidence=evidence)
