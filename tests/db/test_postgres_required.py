"""CI cannot skip the PostgreSQL tests silently: .ci/run starts a server and says the tests require it."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import POSTGRES_ENV, REPO_ROOT


def test_ci_starts_postgres_and_requires_it() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".ci/postgres start" in ci and ".ci/postgres stop" in ci
    assert re.search(r"export .*WORKBENCH_TEST_POSTGRES_URL.*WORKBENCH_REQUIRE_POSTGRES=1", ci)
    assert ci.index("WORKBENCH_REQUIRE_POSTGRES=1") < ci.index("python -m pytest")


def test_the_server_is_there_when_required() -> None:
    if not (os.environ.get("CI") or os.environ.get("WORKBENCH_REQUIRE_POSTGRES")):
        pytest.skip("not in CI: PostgreSQL tests may skip locally")
    assert os.environ.get(POSTGRES_ENV), f"{POSTGRES_ENV} must be set in CI (.ci/run sets it)"


def test_postgres_url_is_a_real_postgres(postgres_url: str) -> None:
    import sqlalchemy as sa
    from workbench.core.db import get_engine

    with get_engine(postgres_url).connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
    assert get_engine(postgres_url).dialect.name == "postgresql" and int(version.split(".")[0]) >= 13
