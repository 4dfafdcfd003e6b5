"""The real build of the project's Docker images, as CI measured it (chapter VI).

`.ci/docker` builds `Dockerfile` and `Dockerfile.api`, runs them, and writes `docs/docker-build.json`: how long
each build took, the image's size and each layer's size from `docker history`. Chapter VI reads that file, so a
learner without Docker on their laptop still sees real numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from workbench.chapters.ch06_docker.deployfiles import dockerfile_lines
from workbench.core.i18n import LocalizedError, translate
from workbench.core.settings import Settings, get_settings

REPORT = "docs/docker-build.json"


class BuildReportError(LocalizedError, ValueError):
    """The build report exists but cannot be read (strings `docker.report_*`)."""

    namespace = "docker"


@dataclass(frozen=True)
class Layer:
    """One line of `docker history`: the instruction that made the layer and what it added to the image."""

    instruction: str
    size_bytes: int
    base: bool  # comes from the base image, not from the project's Dockerfile


@dataclass(frozen=True)
class ImageBuild:
    """One image as CI built it."""

    image: str
    dockerfile: str
    build_seconds: float
    size_bytes: int
    layers: tuple[Layer, ...]  # oldest first, as the Dockerfile reads
    cached_steps: int = 0  # build steps BuildKit reused from its cache (layers shared with an image built before)

    @property
    def base_bytes(self) -> int:
        """Bytes that come from the base image."""
        return sum(layer.size_bytes for layer in self.layers if layer.base)

    @property
    def own_layers(self) -> tuple[Layer, ...]:
        """The layers the project's Dockerfile made."""
        return tuple(layer for layer in self.layers if not layer.base)


@dataclass(frozen=True)
class BuildReport:
    """What `.ci/docker` measured: when, with what, and each image."""

    date: datetime
    commit: str
    docker: str
    builder: str
    cpus: int
    base: str  # the base image's name; `local/...` for the stand-in CI builds when Docker Hub is out of reach
    images: tuple[ImageBuild, ...]

    @property
    def local_base(self) -> bool:
        """True when the base was CI's local stand-in rather than the published image."""
        return self.base.startswith("local/")

    def for_dockerfile(self, name: str) -> ImageBuild | None:
        """The image built from `name` (e.g. "Dockerfile.api"), or None."""
        return next((image for image in self.images if image.dockerfile == name), None)


def parse_build_report(data: object) -> BuildReport:
    """A build report from its JSON data.

    Raises:
        BuildReportError: a field is missing or has the wrong type.
    """
    try:
        images = tuple(
            ImageBuild(
                image=str(image["image"]),
                dockerfile=str(image["dockerfile"]),
                build_seconds=float(image["build_seconds"]),
                size_bytes=int(image["size_bytes"]),
                cached_steps=int(image.get("cached_steps", 0)),
                layers=tuple(
                    Layer(str(layer["instruction"]), int(layer["size_bytes"]), bool(layer["base"]))
                    for layer in image["layers"]
                ),
            )
            for image in data["images"]  # type: ignore[index]
        )
        return BuildReport(
            date=datetime.fromisoformat(str(data["date"]).replace("Z", "+00:00")),  # type: ignore[index]
            commit=str(data.get("commit", "")),  # type: ignore[union-attr]
            docker=str(data["docker"]),  # type: ignore[index]
            builder=str(data.get("builder", "")),  # type: ignore[union-attr]
            cpus=int(data.get("cpus", 0)),  # type: ignore[union-attr]
            base=str(data["base"]),  # type: ignore[index]
            images=images,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BuildReportError("report_invalid", error=f"{type(exc).__name__}: {exc}") from exc


def load_build_report(path: Path | None = None, settings: Settings | None = None) -> BuildReport | None:
    """The report `.ci/docker` wrote (docs/docker-build.json), or None when there is none.

    Raises:
        BuildReportError: the file is not a readable report.
    """
    path = path or (settings or get_settings()).repo_root / REPORT
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildReportError("report_not_json", name=path.name, error=str(exc)) from exc
    return parse_build_report(data)


def is_stale(image: ImageBuild, dockerfile_text: str) -> bool:
    """True when the Dockerfile's last stage no longer has the instructions the measured image was built from."""
    lines = [(key, code) for _, code, key in dockerfile_lines(dockerfile_text) if key]
    last_from = max((i for i, (key, _) in enumerate(lines) if key == "FROM"), default=-1)
    wanted = [key for key, _ in lines[last_from + 1 :] if key not in ("ARG", "LABEL")]
    measured = [layer.instruction.split(None, 1)[0].upper() for layer in image.own_layers]
    return [key for key in measured if key not in ("ARG", "LABEL")] != wanted


# ---------------------------------------------------------------------------------------------------------------
# Shown the French way or the English way
# ---------------------------------------------------------------------------------------------------------------


def _decimal(value: float, digits: int, lang: str) -> str:
    text = f"{value:,.{digits}f}"  # 1,234.5
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")  # 1 234,5 (narrow no-break space)
    return text


def format_size(size_bytes: int, lang: str) -> str:
    """A size in decimal units, as `docker images` counts them: "1,73 Go" / "1.73 GB", "412 Mo" / "412 MB"."""
    units = ("o", "ko", "Mo", "Go") if lang == "fr" else ("B", "kB", "MB", "GB")
    value, unit = float(size_bytes), 0
    while value >= 1000 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    digits = 2 if unit == 3 else (1 if value < 10 and unit else 0)
    return f"{_decimal(value, digits, lang)}\u00a0{units[unit]}"


def format_duration(seconds: float, lang: str) -> str:
    """A build time: "3 min 17 s", or "45,2 s" / "45.2 s" under a minute."""
    if seconds < 60:
        return f"{_decimal(seconds, 1, lang)}\u00a0s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}\u00a0min {rest:02d}\u00a0s"


def format_share(part: float, lang: str) -> str:
    """A share of the image: "69 %" in French, "69%" in English; "< 1 %" for a tiny but non-empty layer."""
    percent = 100 * part
    sign = "\u202f%" if lang == "fr" else "%"
    if 0 < percent < 1:
        return f"<\u00a01{sign}"
    return f"{_decimal(percent, 0, lang)}{sign}"


def layers_table(image: ImageBuild, lang: str) -> pd.DataFrame:
    """The image's layers, base image first (one row), then each instruction of the Dockerfile with its size."""
    tr = lambda key, **v: translate(f"docker.build_{key}", lang, **v)  # noqa: E731
    total = image.size_bytes or 1
    base = [layer for layer in image.layers if layer.base]
    rows = []
    if base:
        rows.append((tr("base_row", layers=len(base)), image.base_bytes))
    rows += [(layer.instruction, layer.size_bytes) for layer in image.own_layers]
    return pd.DataFrame(
        {
            tr("col_instruction"): [text if len(text) <= 140 else text[:139] + "…" for text, _ in rows],
            tr("col_size"): [format_size(size, lang) for _, size in rows],
            tr("col_share"): [format_share(size / total, lang) for _, size in rows],
        }
    )
