"""The build report of .ci/docker (docs/docker-build.json) and how chapter VI shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workbench.chapters.ch06_docker import docker_build as db

from tests.conftest import REPO_ROOT

SAMPLE = {
    "generated_by": ".ci/docker",
    "date": "2026-12-02T20:00:00Z",
    "commit": "abc1234",
    "docker": "20.10.24",
    "builder": "BuildKit",
    "cpus": 2,
    "base": "local/python:3.11-slim",
    "images": [
        {
            "image": "mlops-workbench-api",
            "dockerfile": "Dockerfile.api",
            "build_seconds": 197.4,
            "size_bytes": 1_000_000_000,
            "layers": [
                {"instruction": "Imported from -", "size_bytes": 150_000_000, "base": True},
                {"instruction": "ENV LANG=C.UTF-8", "size_bytes": 0, "base": True},
                {"instruction": "WORKDIR /app", "size_bytes": 0, "base": False},
                {"instruction": "RUN pip install -r requirements-api.txt", "size_bytes": 849_000_000, "base": False},
                {"instruction": "COPY app ./app", "size_bytes": 1_000_000, "base": False},
                {"instruction": "USER 1000:1000", "size_bytes": 0, "base": False},
            ],
        }
    ],
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "docker-build.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_report_is_read_with_every_field(tmp_path) -> None:
    report = db.load_build_report(write(tmp_path, SAMPLE))
    assert report.docker == "20.10.24" and report.cpus == 2 and report.commit == "abc1234" and report.local_base
    assert (report.date.year, report.date.month, report.date.day, report.date.hour) == (2026, 12, 2, 20)
    image = report.for_dockerfile("Dockerfile.api")
    assert image.image == "mlops-workbench-api" and image.build_seconds == 197.4
    assert image.base_bytes == 150_000_000 and len(image.own_layers) == 4
    assert report.for_dockerfile("Dockerfile") is None and image.cached_steps == 0
    cached = json.loads(json.dumps(SAMPLE))
    cached["images"][0]["cached_steps"] = 4
    assert db.parse_build_report(cached).images[0].cached_steps == 4


def test_missing_report_is_none_and_a_broken_one_says_why(tmp_path) -> None:
    assert db.load_build_report(tmp_path / "nothing.json") is None
    with pytest.raises(db.BuildReportError, match="not JSON"):
        db.load_build_report(write(tmp_path, "{oops"))
    broken = json.loads(json.dumps(SAMPLE))
    del broken["images"][0]["layers"][1]["size_bytes"]
    with pytest.raises(db.BuildReportError, match="size_bytes"):
        db.load_build_report(write(tmp_path, broken))
    with pytest.raises(db.BuildReportError):
        db.load_build_report(write(tmp_path, [1, 2]))


@pytest.mark.parametrize(
    ("size", "lang", "text"),
    [
        (1_734_000_000, "fr", "1,73\u00a0Go"),
        (1_734_000_000, "en", "1.73\u00a0GB"),
        (412_300_000, "fr", "412\u00a0Mo"),
        (8_920, "en", "8.9\u00a0kB"),
        (23_300, "fr", "23\u00a0ko"),
        (0, "en", "0\u00a0B"),
    ],
)
def test_sizes_in_each_language(size, lang, text) -> None:
    assert db.format_size(size, lang) == text


@pytest.mark.parametrize(
    ("seconds", "lang", "text"),
    [
        (197.4, "fr", "3\u00a0min 17\u00a0s"),
        (45.31, "fr", "45,3\u00a0s"),
        (45.31, "en", "45.3\u00a0s"),
        (3600.2, "en", "60\u00a0min 00\u00a0s"),
    ],
)
def test_durations_in_each_language(seconds, lang, text) -> None:
    assert db.format_duration(seconds, lang) == text


@pytest.mark.parametrize(
    ("part", "lang", "text"),
    [(0.69, "fr", "69\u202f%"), (0.69, "en", "69%"), (0.001, "fr", "<\u00a01\u202f%"), (0.0, "en", "0%")],
)
def test_shares_in_each_language(part, lang, text) -> None:
    assert db.format_share(part, lang) == text


@pytest.mark.parametrize(
    ("lang", "base_row", "columns"),
    [
        ("fr", "Image de base (2 couche(s))", ["Instruction", "Taille", "Part de l'image"]),
        ("en", "Base image (2 layer(s))", ["Instruction", "Size", "Share of the image"]),
    ],
)
def test_layers_table_collapses_the_base(lang, base_row, columns) -> None:
    image = db.parse_build_report(SAMPLE).images[0]
    table = db.layers_table(image, lang)
    assert list(table.columns) == columns
    assert table.iloc[:, 0].tolist() == [
        base_row,
        "WORKDIR /app",
        "RUN pip install -r requirements-api.txt",
        "COPY app ./app",
        "USER 1000:1000",
    ]
    assert table.iloc[0, 1] == db.format_size(150_000_000, lang) and table.iloc[2, 2] == db.format_share(0.849, lang)


def test_a_report_from_another_dockerfile_is_stale() -> None:
    image = db.parse_build_report(SAMPLE).images[0]
    dockerfile = "ARG BASE=python:3.11-slim\nFROM ${BASE}\nWORKDIR /app\nRUN pip install x\nCOPY app ./app\nUSER 1000\n"
    assert not db.is_stale(image, dockerfile)
    assert db.is_stale(image, dockerfile.replace("USER 1000\n", "USER 1000\nEXPOSE 8000\n"))
    two_stages = "FROM python:3.11 AS build\nRUN make\nFROM python:3.11-slim\n" + dockerfile.split("\n", 2)[2]
    assert not db.is_stale(image, two_stages)


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.api"])
def test_committed_report_measures_the_shipped_dockerfiles(dockerfile) -> None:
    """docs/docker-build.json is what .ci/docker measured on the Dockerfiles as they are (re-run it after a change)."""
    report = db.load_build_report(REPO_ROOT / db.REPORT)
    assert report is not None and report.builder == "BuildKit"
    image = report.for_dockerfile(dockerfile)
    assert image is not None and image.build_seconds > 0
    assert not db.is_stale(image, (REPO_ROOT / dockerfile).read_text()), "run .ci/docker to measure the new build"
    assert abs(sum(layer.size_bytes for layer in image.layers) - image.size_bytes) <= 0.01 * image.size_bytes
    assert 0 < image.base_bytes < image.size_bytes
