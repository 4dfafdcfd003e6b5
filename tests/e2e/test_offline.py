"""Nothing leaves the machine: every page of the app and the API's docs, in Chromium, with the network watched."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from workbench.chapters import CHAPTERS

from tests.e2e.conftest import wait_until_idle

pytestmark = pytest.mark.e2e
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _watch(page) -> list[str]:
    """Every request the page makes to a host that is not this machine (data: and blob: URLs stay local)."""
    outside: list[str] = []

    def record(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.hostname not in LOCAL_HOSTS:
            outside.append(f"{page.url} -> {request.url}")

    page.on("request", record)
    return outside


def test_no_page_of_the_app_fetches_anything_from_outside(page, app_url) -> None:
    outside = _watch(page)
    page.goto(f"{app_url}/")
    wait_until_idle(page)
    links = page.locator('[data-testid="stSidebarNav"] a')
    assert links.count() == 1 + len(CHAPTERS)
    for index in range(links.count()):  # through the navigation, as a learner clicks
        links.nth(index).click()
        wait_until_idle(page)
        page.wait_for_timeout(1500)  # late assets: icons, fonts, chart bundles
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    wait_until_idle(page)
    assert outside == []


@pytest.mark.parametrize(
    "path, ready", [("/docs", ".swagger-ui .opblock"), ("/redoc", "[role=menuitem], .menu-content")]
)
def test_the_api_docs_render_from_local_files_only(page, api_url, path, ready) -> None:
    outside = _watch(page)
    page.goto(f"{api_url}{path}")
    page.wait_for_selector(ready, timeout=60_000)  # rendered: the scripts came from the API itself
    page.wait_for_timeout(1500)
    assert "/predict" in page.content()
    assert outside == []
