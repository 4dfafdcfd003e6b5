"""Chapter VI work-based checks: CMD vs ENTRYPOINT and EXPOSE vs -p, on the learner's own Dockerfile."""

from __future__ import annotations

import pytest
from workbench.chapters.ch06_docker import deployfiles
from workbench.chapters.ch06_docker.run_semantics import (
    check_entrypoint_cmd,
    check_expose_publish,
    image_config,
    listening,
)
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT

GOOD = """FROM python:3.11-slim
ENV WORKBENCH_API_HOST=0.0.0.0
EXPOSE 8000
ENTRYPOINT ["python", "-m", "workbench.api"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
"""


@pytest.mark.parametrize(
    ("dockerfile", "args", "expected"),
    [
        ('FROM x\nCMD ["python", "app.py"]', [], ["python", "app.py"]),
        ('FROM x\nCMD ["python", "app.py"]', ["--port", "1"], ["--port", "1"]),  # args replace a plain CMD
        ('FROM x\nENTRYPOINT ["python"]\nCMD ["app.py"]', ["other.py"], ["python", "other.py"]),
        ('FROM x\nENTRYPOINT ["python"]\nCMD ["app.py"]', [], ["python", "app.py"]),
        ('FROM x\nENTRYPOINT python app.py\nCMD ["--x"]', ["--y"], ["/bin/sh", "-c", "python app.py"]),
        ("FROM x\nCMD python app.py", [], ["/bin/sh", "-c", "python app.py"]),
        ('FROM x\nCMD ["a"]\nENTRYPOINT ["b"]', [], ["b", "a"]),  # the same stage's CMD stays
        ('FROM x AS base\nCMD ["a"]\nFROM base\nENTRYPOINT ["b"]', [], ["b"]),  # an inherited CMD is reset
        ('FROM x AS base\nENTRYPOINT ["p"]\nFROM base\nCMD ["q"]', [], ["p", "q"]),  # inherited ENTRYPOINT
    ],
)
def test_the_command_docker_runs_follows_docker_s_rules(dockerfile, args, expected) -> None:
    assert image_config(dockerfile).command(args) == expected


def test_listening_address_comes_from_the_command_then_the_environment() -> None:
    assert listening(image_config(GOOD)) == ("0.0.0.0", 8000)
    assert listening(image_config(GOOD), ["--port", "9001"]) == ("0.0.0.0", 9001)
    plain = 'FROM x\nENV WORKBENCH_API_PORT=7000\nCMD ["python", "-m", "workbench.api"]'
    assert listening(image_config(plain)) == ("127.0.0.1", 7000)


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


def _save(text: str) -> None:
    deployfiles.save_learner_dockerfile(get_settings(), "ana", text)


def test_entrypoint_check_fails_before_the_work_and_passes_after() -> None:
    assert not check_entrypoint_cmd(_ctx()).passed  # nothing saved
    _save(deployfiles.STARTER_DOCKERFILE)
    starter = check_entrypoint_cmd(_ctx())
    assert not starter.passed and any("No ENTRYPOINT" in m for m in starter.missing)
    _save((REPO_ROOT / "Dockerfile.api").read_text())  # the repository's own: CMD only
    assert not check_entrypoint_cmd(_ctx()).passed
    _save(GOOD.replace('CMD ["--host"', 'CMD ["python", "-m", "workbench.api", "--host"'))
    repeated = check_entrypoint_cmd(_ctx())
    assert not repeated.passed and any("repeats the program" in m for m in repeated.missing)
    _save(GOOD.replace('ENTRYPOINT ["python", "-m", "workbench.api"]', "ENTRYPOINT python -m workbench.api"))
    assert any("shell form" in m for m in check_entrypoint_cmd(_ctx()).missing)
    _save(GOOD)
    result = check_entrypoint_cmd(_ctx("fr"))
    assert result.passed, result.missing
    assert "python -m workbench.api --host 0.0.0.0 --port 8000" in result.detail
    assert "python -m workbench.api --port 9001" in result.detail
    assert result.evidence["with_args"] == ["python", "-m", "workbench.api", "--port", "9001"]


def test_expose_check_needs_all_interfaces_and_the_exposed_port() -> None:
    _save(deployfiles.STARTER_DOCKERFILE)
    starter = check_expose_publish(_ctx())
    assert not starter.passed and any("127.0.0.1" in m for m in starter.missing)
    _save(GOOD.replace("EXPOSE 8000", "EXPOSE 80"))
    wrong = check_expose_publish(_ctx())
    assert not wrong.passed and any("EXPOSE 8000" in m for m in wrong.missing)
    _save(GOOD.replace('"0.0.0.0"', '"127.0.0.1"').replace("ENV WORKBENCH_API_HOST=0.0.0.0\n", ""))
    assert not check_expose_publish(_ctx()).passed
    _save((REPO_ROOT / "Dockerfile.api").read_text())
    result = check_expose_publish(_ctx())
    assert result.passed and "docker run -p 8080:8000" in result.detail
