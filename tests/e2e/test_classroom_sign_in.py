"""Class mode in a real browser: sign-in with OIDC against a real provider (oidc-provider-mock), and join links.

The provider runs in this process (`oidc_provider_mock.run_server_in_thread`); the app is a real
`streamlit run app/Home.py` in class mode whose `.streamlit/secrets.toml` has an `[auth]` section pointing at it.
Streamlit's own `st.login()` does the OpenID Connect code flow; nothing of Streamlit is mocked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from workbench.core.people import Person, Role
from workbench.core.roster import Roster
from workbench.core.services import free_port, wait_for_http

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e


def _sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


@pytest.fixture(scope="module")
def oidc_url() -> Iterator[str]:
    """A real OpenID Connect provider on loopback with two known users."""
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(sub="zoe", claims={"email": "zoe@ecole.fr", "name": "Zoé Durand"}),
        User(sub="leroy", claims={"email": "LEROY@ecole.fr", "name": "Claire Leroy"}),
    ]
    with run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def class_app(tmp_path_factory: pytest.TempPathFactory, oidc_url: str) -> Iterator[tuple[str, Roster]]:
    """The app in class mode (its own SQLite database and roster), with `[auth]` configured for the provider."""
    home = tmp_path_factory.mktemp("class-app")
    state = home / "state"
    port = free_port()
    (home / ".streamlit").mkdir()
    shutil.copy(REPO_ROOT / ".streamlit" / "config.toml", home / ".streamlit" / "config.toml")
    (home / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "workbench"\n'
        'client_secret = "workbench-secret"\n'
        f'server_metadata_url = "{oidc_url}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    roster = Roster(f"sqlite:///{state / 'progress.db'}")
    roster.add("Mme Leroy", Role.TEACHER, "leroy@ecole.fr")
    env = dict(
        os.environ,
        WORKBENCH_STATE_DIR=str(state),
        WORKBENCH_MODE="class",
        MLFLOW_TRACKING_URI=f"sqlite:///{state / 'mlflow.db'}",
        PYTHONPATH=str(REPO_ROOT / "app"),
    )
    for name in ("WORKBENCH_LANG", "WORKBENCH_DATABASE_URL"):
        env.pop(name, None)
    log = (home / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app" / "Home.py"), "--server.port", str(port)],
        cwd=home,  # Streamlit reads ./.streamlit/secrets.toml
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=120)
        yield f"http://127.0.0.1:{port}", roster
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        print((home / "streamlit.log").read_text()[-3000:])


def _sign_in_with_provider(page, app: str, sub: str) -> None:
    page.goto(app)
    wait_until_idle(page)
    assert page.locator('[data-testid="stSidebar"] input[type="text"]').count() == 0  # no name field
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)  # the provider's own page
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{app}/**", timeout=30_000)
    wait_until_idle(page)


def test_oidc_sign_in_name_from_the_token_role_from_the_roster(browser, class_app) -> None:
    app, roster = class_app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    _sign_in_with_provider(page, app, "zoe")
    page.get_by_text("Zoé Durand", exact=False).first.wait_for(timeout=30_000)
    assert "Connecté·e : Zoé Durand (apprenant·e)" in _sidebar_text(page)  # unknown email: a learner
    assert roster.person("Zoé Durand") == Person("Zoé Durand", Role.LEARNER, "zoe@ecole.fr")  # now in the class
    page.reload()  # the identity cookie keeps them signed in
    wait_until_idle(page)
    assert "Zoé Durand (apprenant·e)" in _sidebar_text(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)  # the provider ends its session too
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app}/**", timeout=30_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Se connecter").wait_for(timeout=30_000)
    context.close()

    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = teacher.new_page()
    _sign_in_with_provider(page, app, "leroy")
    page.get_by_text("Mme Leroy").first.wait_for(timeout=30_000)
    assert "Connecté·e : Mme Leroy (enseignant·e)" in _sidebar_text(page)  # the roster's entry for that email
    teacher.close()


def test_join_link_survives_page_changes_and_reload_until_revoked(browser, class_app) -> None:
    app, roster = class_app
    ana = roster.add("Ana Martin", Role.LEARNER)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(ana.link(app))
    wait_until_idle(page)
    assert "Ana Martin (apprenant·e)" in _sidebar_text(page)
    page.locator('[data-testid="stSidebarNav"] a').nth(4).click()  # another chapter, through the navigation
    wait_until_idle(page)
    assert parse_qs(urlsplit(page.url).query).get("join") == [ana.token]
    page.reload()
    wait_until_idle(page)
    assert "Ana Martin (apprenant·e)" in _sidebar_text(page)

    roster.revoke("Ana Martin")
    page.reload()
    wait_until_idle(page)
    page.get_by_text("Ce lien de connexion n'est pas valable").wait_for(timeout=30_000)
    assert "Ana Martin" not in _sidebar_text(page)
    context.close()


def test_a_forged_link_in_the_browser(browser, class_app) -> None:
    app, _roster = class_app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{app}/?join={'x' * 43}")
    wait_until_idle(page)
    page.get_by_text("Ce lien de connexion n'est pas valable").wait_for(timeout=30_000)
    page.screenshot(path=str(Path(os.environ.get("WORKBENCH_SCREENSHOTS", "/tmp")) / "classroom-forged-link.png"))
    context.close()
