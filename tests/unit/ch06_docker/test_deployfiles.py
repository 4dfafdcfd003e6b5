"""The project's deployment files agree with each other and with the code; the chapter VI helpers."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from workbench.chapters.ch06_docker import deployfiles
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
CLASS_COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.class.yml").read_text())


def test_compose_services_ports_and_images() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"app", "api", "mlflow", "prometheus", "grafana"}
    assert services["app"]["ports"] == ["8501:8501"] and services["api"]["ports"] == ["8000:8000"]
    assert services["mlflow"]["ports"] == ["5000:5000"]
    for name in ("app", "api"):
        build = services[name]["build"]
        assert (REPO_ROOT / build["context"] / build["dockerfile"]).is_file()
    assert services["mlflow"]["image"] == services["api"]["image"]  # the server runs from the API image


def test_compose_wiring_agrees() -> None:
    services = COMPOSE["services"]
    mlflow_port = services["mlflow"]["command"][services["mlflow"]["command"].index("--port") + 1]
    for name in ("app", "api"):
        assert services[name]["environment"]["MLFLOW_TRACKING_URI"] == f"http://mlflow:{mlflow_port}"
    assert services["app"]["environment"]["WORKBENCH_API_HOST"] == "api"
    assert services["app"]["environment"]["WORKBENCH_API_PORT"] == services["api"]["environment"]["WORKBENCH_API_PORT"]
    prometheus = yaml.safe_load((REPO_ROOT / "deploy/prometheus/prometheus.yml").read_text())
    target = prometheus["scrape_configs"][0]["static_configs"][0]["targets"][0]
    assert target == f"api:{services['api']['environment']['WORKBENCH_API_PORT']}"
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yml"]


@pytest.mark.parametrize("compose", [COMPOSE, CLASS_COMPOSE], ids=["solo", "class"])
def test_compose_volumes_and_bind_mounts_exist(compose: dict) -> None:
    declared = set(compose["volumes"])
    used = set()
    for spec in compose["services"].values():
        for volume in spec.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), source
            else:
                used.add(source)
        assert spec["networks"] == ["workbench"]
    assert used == declared
    assert compose["networks"]["workbench"]["driver"] == "bridge"


def test_alert_rules_and_dashboard_use_metrics_the_api_exposes() -> None:
    from fastapi.testclient import TestClient
    from workbench.api import create_app

    with TestClient(create_app()) as client:
        client.post(
            "/predict",
            json={"Education": "Graduate", "ApplicantIncome": 1, "CoapplicantIncome": 0, "Property_Area": "Urban"},
        )
        exposed = set(
            re.findall(r"^(workbench_api_\w+?)(?:_bucket|_count|_sum|_created)?[{ ]", client.get("/metrics").text, re.M)
        )
    rules = yaml.safe_load((REPO_ROOT / "deploy/prometheus/alerts.yml").read_text())
    dashboard = json.loads((REPO_ROOT / "deploy/grafana/dashboards/prediction-api.json").read_text())
    expressions = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {re.sub(r"_(bucket|total)$", "", m) for e in expressions for m in re.findall(r"workbench_api_\w+", e)}
    assert used and used <= exposed | {m + "" for m in exposed}, used - exposed
    assert {"ApiDown", "HighErrorRate", "HighLatencyP95"} <= {r["alert"] for g in rules["groups"] for r in g["rules"]}


def test_nginx_directives_end_with_semicolons_and_point_at_the_api() -> None:
    text = (REPO_ROOT / "deploy/nginx.conf").read_text()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0].strip()
        if stripped and not stripped.endswith(("{", "}", ";")):
            pytest.fail(f"nginx.conf line {number} does not end with ';': {line}")
    assert "server 127.0.0.1:8000;" in text and "proxy_pass http://prediction_api;" in text


def test_gunicorn_config_uses_uvicorn_workers() -> None:
    import importlib
    import runpy

    config = runpy.run_path(str(REPO_ROOT / "deploy/gunicorn.conf.py"))
    assert config["bind"] == "127.0.0.1:8000" and config["workers"] >= 2
    module, _, cls = config["worker_class"].rpartition(".")
    assert hasattr(importlib.import_module(module), cls)


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.api"])
def test_shipped_dockerfiles_are_clean(name) -> None:
    text = (REPO_ROOT / name).read_text()
    assert deployfiles.run_hadolint(text) == []
    assert deployfiles.dockerfile_problems(text, "en") == []


def test_every_keyword_of_the_shipped_files_is_explained() -> None:
    assert deployfiles.missing_annotations() == []
    notes = deployfiles.annotations()
    for kind in deployfiles.KINDS:
        for key, note in notes[kind].items():
            assert note["fr"].strip() and note["en"].strip(), f"{kind}.{key}"


def test_dockerfile_logical_lines_join_continuations() -> None:
    lines = deployfiles.dockerfile_lines('# c\nFROM a\nRUN x \\\n    && y\n\nCMD ["z"]\n')
    assert [(n, key) for n, _, key in lines] == [(1, None), (2, "FROM"), (3, "RUN"), (5, None), (6, "CMD")]
    assert "&& y" in lines[2][1]


def test_annotate_compose_and_nginx() -> None:
    compose = deployfiles.annotate("compose", deployfiles.read_shipped("docker-compose.yml"))
    keys = {line.key for line in compose if line.key}
    assert {"services", "volumes", "networks", "ports", "environment"} <= keys
    nginx = deployfiles.annotate("nginx", deployfiles.read_shipped("deploy/nginx.conf"))
    assert [line.key for line in nginx if line.key][:3] == ["worker_processes", "events", "worker_connections"]


def test_docker_objects_of_the_compose_file() -> None:
    objects = deployfiles.docker_objects(COMPOSE)
    kinds = {}
    for o in objects:
        kinds.setdefault(o.kind, []).append(o.name)
    assert (
        len(kinds["container"]) == 5 and len(kinds["volume"]) == 5 and kinds["network"] == ["mlops-workbench_workbench"]
    )
    assert "mlops-workbench-api:latest" in kinds["image"] and len(kinds["image"]) == 4


def test_hadolint_reports_a_bad_dockerfile() -> None:
    findings = deployfiles.run_hadolint(deployfiles.STARTER_DOCKERFILE)
    assert {"DL3042", "DL3025"} <= {f.code for f in findings}
    assert all(f.line >= 1 and f.message for f in findings)


def test_learner_dockerfile_check() -> None:
    ctx = CheckContext("ana", "en", get_settings())
    assert "No Dockerfile saved" in deployfiles.check_learner_dockerfile(ctx).missing[0]
    deployfiles.save_learner_dockerfile(get_settings(), "ana", deployfiles.STARTER_DOCKERFILE)
    result = deployfiles.check_learner_dockerfile(ctx)
    assert not result.passed
    assert any("slim" in m for m in result.missing) and any("USER" in m for m in result.missing)
    assert any("HEALTHCHECK" in m for m in result.missing) and any("DL3042" in m for m in result.missing)
    deployfiles.save_learner_dockerfile(get_settings(), "ana", (REPO_ROOT / "Dockerfile.api").read_text())
    assert deployfiles.check_learner_dockerfile(CheckContext("ana", "fr", get_settings())).passed
    with pytest.raises(ValueError):
        deployfiles.save_learner_dockerfile(get_settings(), "ana", "#" * 30_000)


def test_root_user_is_refused() -> None:
    text = (REPO_ROOT / "Dockerfile.api").read_text().replace("USER 1000:1000", "USER root")
    assert any("USER" in p for p in deployfiles.dockerfile_problems(text, "en"))


@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("ARG BASE=python:3.11-slim\nFROM ${BASE}\nRUN x\n", "python:3.11-slim"),
        ("ARG BASE=python:3.11-slim\nFROM $BASE AS build\nRUN x\nFROM build\n", "python:3.11-slim"),
        ("FROM ${B:-python:3.11-alpine}\n", "python:3.11-alpine"),
        (
            "FROM --platform=linux/amd64 python:3.11 AS a\nFROM python:3.11-slim\nCOPY --from=a /x /x\n",
            "python:3.11-slim",
        ),
        ("ARG BASE\nFROM ${BASE:-debian:12}\n", "debian:12"),
        ("RUN x\n", None),
    ],
)
def test_base_image_resolves_args_and_stages(text, base) -> None:
    assert deployfiles.base_image(text) == base


def test_arg_may_come_before_from_but_the_base_must_still_be_slim() -> None:
    good = (REPO_ROOT / "Dockerfile.api").read_text()
    assert good.startswith("#") and "ARG BASE=python:3.11-slim\nFROM ${BASE}" in good
    problems = deployfiles.dockerfile_problems(good.replace("python:3.11-slim", "python:3.11"), "en")
    assert any("light base image" in p for p in problems)
    only_args = deployfiles.dockerfile_problems("ARG A=1\nRUN echo\n", "fr")
    assert any("FROM" in p for p in only_args)


_FINAL_OK = (
    "RUN useradd --uid 1000 api\nUSER 1000:1000\n"
    'HEALTHCHECK CMD ["python", "-c", "import urllib.request, sys; '
    "sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)\"]\n"
    'CMD ["python", "-m", "workbench.api"]\n'
)
_BUILDER = "FROM python:3.11-slim AS builder\nRUN pip wheel --no-cache-dir --wheel-dir /w requests==2.32.3\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        # a fat final image, whatever the builder starts from
        (
            _BUILDER + "FROM python:3.11\nCOPY --from=builder /w /w\n" + _FINAL_OK,
            "final image starts from `python:3.11`",
        ),
        # USER only in the builder stage: the image that runs is root
        (
            _BUILDER
            + "USER 1000:1000\nFROM python:3.11-slim\nCOPY --from=builder /w /w\n"
            + _FINAL_OK.replace("USER 1000:1000\n", ""),
            "Add a USER",
        ),
        # HEALTHCHECK only in the builder stage
        (
            _BUILDER
            + 'HEALTHCHECK CMD ["true"]\nFROM python:3.11-slim\nCOPY --from=builder /w /w\n'
            + "\n".join(line for line in _FINAL_OK.splitlines() if not line.startswith("HEALTHCHECK"))
            + "\n",
            "Add a HEALTHCHECK",
        ),
        # HEALTHCHECK NONE turns the check off
        (
            "FROM python:3.11-slim\n"
            + _FINAL_OK.replace("HEALTHCHECK CMD", "HEALTHCHECK NONE\n#").replace("#[", "# ["),
            "HEALTHCHECK NONE",
        ),
    ],
    ids=["fat-final-image", "user-only-in-builder", "healthcheck-only-in-builder", "healthcheck-none"],
)
def test_rules_judge_the_final_stage_of_a_multi_stage_build(text, expected) -> None:
    problems = deployfiles.dockerfile_problems(text, "en")
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        _BUILDER + "FROM python:3.11-slim\nCOPY --from=builder /w /w\n" + _FINAL_OK,
        # the final stage inherits USER, HEALTHCHECK and CMD from an earlier stage it starts FROM
        "FROM python:3.11-slim AS base\n"
        + _FINAL_OK
        + "FROM base AS final\nLABEL org.opencontainers.image.title=api\n",
        # ARG before the first FROM is allowed
        "ARG PYTHON=3.11\nFROM python:${PYTHON}-slim\n" + _FINAL_OK,
    ],
    ids=["builder-then-slim", "inherits-from-stage", "arg-before-from"],
)
def test_good_multi_stage_builds_pass(text) -> None:
    assert deployfiles.dockerfile_problems(text, "en") == []


def test_multi_stage_problems_say_the_final_image_is_what_counts() -> None:
    text = _BUILDER + "USER 1000:1000\nFROM python:3.11\n" + _FINAL_OK.replace("USER 1000:1000\n", "")
    problems = deployfiles.dockerfile_problems(text, "fr")
    assert sum("image finale" in p for p in problems) == 2  # the base, then the note on stages, once
    assert "étape de construction" in problems[-1]


def test_dl3025_on_a_shell_form_healthcheck_is_explained() -> None:
    text = (
        "FROM python:3.11-slim\nUSER 1000:1000\nHEALTHCHECK --interval=10s \\\n"
        '  CMD curl -f http://localhost:8000/health || exit 1\nCMD ["python", "-m", "workbench.api"]\n'
    )
    problems = deployfiles.dockerfile_problems(text, "en")
    assert any("DL3025" in p for p in problems)
    explained = [p for p in problems if "hadolint reads `HEALTHCHECK CMD" in p]
    assert len(explained) == 1 and "Line 3" in explained[0] and "curl" in explained[0]
    assert any("DL3025 vise le HEALTHCHECK" in p for p in deployfiles.dockerfile_problems(text, "fr"))
    # a shell-form CMD gets DL3025 too, but not the HEALTHCHECK explanation
    plain = deployfiles.dockerfile_problems(STARTER_CMD_ONLY, "en")
    assert any("DL3025" in p for p in plain) and not any("HEALTHCHECK CMD" in p for p in plain)


STARTER_CMD_ONLY = 'FROM python:3.11-slim\nUSER 1000:1000\nHEALTHCHECK CMD ["true"]\nCMD python -m workbench.api\n'


def test_class_compose_runs_the_workbench_in_class_mode_on_postgresql() -> None:
    services = CLASS_COMPOSE["services"]
    assert set(services) == {"app", "api", "mlflow", "postgres", "prometheus", "grafana"}  # no MinIO
    app, api, mlflow, postgres = (services[n] for n in ("app", "api", "mlflow", "postgres"))
    assert app["environment"]["WORKBENCH_MODE"] == api["environment"]["WORKBENCH_MODE"] == "class"
    user, database = postgres["environment"]["POSTGRES_USER"], postgres["environment"]["POSTGRES_DB"]
    password = postgres["environment"]["POSTGRES_PASSWORD"]
    assert app["environment"]["WORKBENCH_DATABASE_URL"] == (
        f"postgresql+psycopg://{user}:{password}@postgres:5432/workbench"
    )
    command = mlflow["command"]
    assert command[command.index("--backend-store-uri") + 1] == (
        f"postgresql+psycopg://{user}:{password}@postgres:5432/{database}"
    )
    assert (
        "--serve-artifacts" in command and command[command.index("--artifacts-destination") + 1] == "/mlflow/artifacts"
    )
    assert "ports" not in mlflow  # MLflow's UI shows every learner's runs: not published
    assert mlflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "-h 127.0.0.1" in postgres["healthcheck"]["test"][1]  # TCP opens only once the init script has run
    init = next(v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v)
    assert "CREATE DATABASE workbench" in (REPO_ROOT / init.split(":")[0]).read_text()
    for name in ("app", "api"):
        assert services[name]["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"


def test_class_compose_shares_the_images_ports_and_monitoring_of_the_solo_file() -> None:
    solo, class_ = COMPOSE["services"], CLASS_COMPOSE["services"]
    for name in ("app", "api", "prometheus", "grafana"):
        assert class_[name]["image"] == solo[name]["image"] and class_[name]["ports"] == solo[name]["ports"]
        assert class_[name].get("build") == solo[name].get("build")
    assert class_["prometheus"]["volumes"] == solo["prometheus"]["volumes"]
    assert class_["mlflow"]["image"] == class_["api"]["image"]  # the API image carries MLflow and psycopg
    requirements = (REPO_ROOT / "requirements-api.txt").read_text().split()
    assert "psycopg" in requirements and "psycopg-binary" in requirements


def test_class_compose_file_passes_docker_compose_config() -> None:
    import shutil
    import subprocess

    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (the structure tests above still run)")
    run = subprocess.run(
        [compose, "-f", "docker-compose.class.yml", "-p", "mlops-workbench", "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
