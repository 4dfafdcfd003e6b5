"""`streamlit run app/Home.py` listens on loopback only; deployments open it on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from workbench.core.services import wait_for_http

from tests.conftest import REPO_ROOT, free_port


def test_the_config_binds_loopback() -> None:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"


def test_docker_compose_and_kubernetes_open_the_app_explicitly() -> None:
    assert "--server.address=0.0.0.0" in (REPO_ROOT / "Dockerfile").read_text()
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["app"]["environment"]["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"
    documents = list(yaml.safe_load_all((REPO_ROOT / "deploy" / "k8s" / "app.yaml").read_text()))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"


def _listening(port: int) -> set[str]:
    """Addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    addresses = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                addresses.add(address if len(address) == width else "?")
    return addresses


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the listening sockets from /proc")
def test_streamlit_run_listens_on_loopback_only(tmp_path) -> None:
    port = free_port()
    env = dict(os.environ, WORKBENCH_STATE_DIR=str(tmp_path), MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path}/m.db")
    env.pop("STREAMLIT_SERVER_ADDRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/Home.py", "--server.port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=90)
        listening = _listening(port)
        assert listening, "no listening socket found"
        loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1, as /proc writes them
        assert listening <= loopback, listening  # never 0.0.0.0 (00000000) nor :: (all zeros)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
