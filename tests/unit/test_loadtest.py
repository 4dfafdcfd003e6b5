"""The load client against a tiny local HTTP server: counts, statuses, percentiles, progress thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from workbench.core.loadtest import json_bodies, latency_histogram_figure, run_load


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        status = 422 if b"bad" in body else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/predict"
    httpd.shutdown()


def test_counts_statuses_and_percentiles(server) -> None:
    calls = []
    result = run_load(
        server,
        json_bodies([{"ok": 1}, {"bad": 1}]),
        200,
        4,
        progress=lambda done, total: calls.append((threading.current_thread().name, done, total)),
    )
    assert result.requests == 200 and result.errors == 0
    assert result.statuses == {200: 100, 422: 100} and result.ok == 100
    assert 0 < result.percentile(50) <= result.percentile(95) <= result.percentile(99)
    assert result.throughput > 0
    assert calls and all(name == threading.current_thread().name for name, _, _ in calls)  # the caller's thread
    assert calls[-1][1:] == (200, 200)
    fig = latency_histogram_figure(result, "fr")
    assert len(fig.data[0].x) == 200 and len(fig.layout.shapes) == 3


def test_connection_errors_are_counted() -> None:
    from tests.conftest import free_port

    result = run_load(f"http://127.0.0.1:{free_port()}/x", [b"{}"], 10, 2, timeout=2)
    assert result.errors == 10 and result.ok == 0 and len(result.latencies_ms) == 0


def test_class_mode_loads_the_learners_own_route_with_the_apps_token(monkeypatch) -> None:
    """Chapter VII's load test and single-vs-batch call `/learners/{learner}/…`, never the class-wide /predict."""
    from workbench.core import api_client
    from workbench.core.settings import get_settings

    seen: list[tuple[str, str | None]] = []

    class Recorder(_Handler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            seen.append((self.path, self.headers.get("Authorization")))
            super().do_POST()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        for name, value in (("MODE", "class"), ("API_PORT", str(httpd.server_address[1])), ("API_ADMIN_TOKEN", "s")):
            monkeypatch.setenv(f"WORKBENCH_{name}", value)
        get_settings.cache_clear()
        assert api_client.load_test(6, 2, learner="Ana Martin").ok == 6
        api_client.single_vs_batch(3, learner="Ana Martin")
    finally:
        httpd.shutdown()
    assert {path for path, _ in seen} == {"/learners/Ana%20Martin/predict", "/learners/Ana%20Martin/predict/batch"}
    assert len(seen) == 6 + 3 + 1 and {auth for _, auth in seen} == {"Bearer s"}


class _Framings(BaseHTTPRequestHandler):
    """Answers framed three ways: Content-Length, chunked, and HTTP/1.0 ending at the close."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"chunked" in body:
            self.send_response(201)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n5;x=1\r\ndefgh\r\n0\r\n\r\n")
        elif b"close" in body:
            self.protocol_version = "HTTP/1.0"
            self.send_response(202)
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
        else:
            self.send_response(422 if b"bad" in body else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def framings():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Framings)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/predict"
    httpd.shutdown()


def test_the_raw_client_reads_every_framing_and_counts_like_run_load(framings) -> None:
    from workbench.core.loadtest import run_raw_load

    bodies = json_bodies([{"ok": 1}, {"bad": 1}, {"chunked": 1}, {"close": 1}])
    raw, reference = run_raw_load(framings, bodies, 200, 4), run_load(framings, bodies, 200, 4)
    assert raw.errors == reference.errors == 0
    assert raw.statuses == reference.statuses == {200: 50, 422: 50, 201: 50, 202: 50}
    assert len(raw.latencies_ms) == 200 and raw.concurrency == 4 and raw.throughput > 0


def test_the_raw_client_counts_connection_errors() -> None:
    from workbench.core.loadtest import run_raw_load

    from tests.conftest import free_port

    result = run_raw_load(f"http://127.0.0.1:{free_port()}/x", [b"{}"], 10, 2, timeout=2)
    assert result.errors == 10 and result.ok == 0 and len(result.latencies_ms) == 0
