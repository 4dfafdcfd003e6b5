"""A real `streamlit run app/Home.py` server and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from workbench.core.services import free_port, wait_for_http

from tests.conftest import REPO_ROOT

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the app on a free loopback port with its own state dir; stop it afterwards."""
    state = tmp_path_factory.mktemp("e2e-state")
    port = free_port()
    env = dict(
        os.environ,
        WORKBENCH_STATE_DIR=str(state),
        WORKBENCH_LEARNER="e2e",
        MLFLOW_TRACKING_URI=f"sqlite:///{state / 'mlflow.db'}",
    )
    env.pop("WORKBENCH_LANG", None)
    log = (state / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app/Home.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = "Debian chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def wait_until_idle(page, timeout: float = 30_000) -> None:
    """Wait until the Streamlit script run finished rendering (the main block has content and no run is on)."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(300)


@pytest.fixture(scope="session")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m workbench.api` on a free loopback port with its own state dir; stopped afterwards."""
    state = tmp_path_factory.mktemp("e2e-api-state")
    port = free_port()
    env = dict(os.environ, WORKBENCH_STATE_DIR=str(state), MLFLOW_TRACKING_URI=f"sqlite:///{state / 'mlflow.db'}")
    log = (state / "api.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.api", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout=180)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
