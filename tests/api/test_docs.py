"""The API's /docs and /redoc pages load everything from the API itself (no CDN, no web font)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_files(client, path) -> None:
    page = client.get(path)
    assert page.status_code == 200
    referenced = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert referenced and all(url.startswith("/") for url in referenced), referenced
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for url in referenced:
        assert client.get(url).status_code == 200, url


def test_the_served_scripts_fetch_nothing_from_outside(client) -> None:
    redoc = client.get("/docs-assets/redoc.standalone.js")
    assert redoc.status_code == 200 and redoc.headers["content-type"].startswith("text/javascript")
    assert "cdn.redoc.ly" not in redoc.text and "fonts.googleapis" not in redoc.text
    swagger = client.get("/docs-assets/swagger-ui-bundle.js")
    assert swagger.status_code == 200 and len(swagger.content) > 500_000
    assert "/docs" not in client.get("/openapi.json").json()["paths"]  # the pages are not API endpoints
