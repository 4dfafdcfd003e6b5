"""The real `mlflow ui` on the workbench's store, started for one learner (chapter V).

`mlflow ui` as MLflow ships it starts four web workers and a job runner with seven queue consumers (for the
GenAI judges and scheduled jobs), each importing MLflow: on a 2-core laptop that is half a minute or more
before it answers. One learner needs one worker and no job runner (`benchmarks/mlflow_ui.py` measures the
difference). It opens on MLflow 3's GenAI home; the link the page gives lands on the course experiment's runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.core import services
from workbench.core.settings import Settings, get_settings

SERVICE = "mlflow-ui"
#: The job runner serves GenAI features (judges, scheduled jobs) the course does not use.
UI_ENV: dict[str, str] = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def ui_command(port: int, settings: Settings | None = None) -> list[str]:
    """`mlflow ui` on the workbench's store, on loopback, with one worker."""
    settings = settings or get_settings()
    mlflow_bin = str(Path(sys.executable).parent / "mlflow")
    return [
        mlflow_bin,
        "ui",
        "--backend-store-uri",
        settings.mlflow_tracking_uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(int(port)),
        "--workers",
        "1",
    ]


def start_ui(port: int, settings: Settings | None = None, wait_seconds: float = 90) -> services.ServiceStatus:
    """Start the UI (once, whoever clicks) and wait until it answers.

    Raises:
        RuntimeError: the port is taken or the UI did not start (the message ends with its log).
    """
    settings = settings or get_settings()
    url = f"http://127.0.0.1:{int(port)}"
    return services.start(
        settings,
        SERVICE,
        ui_command(port, settings),
        url=url,
        health_url=f"{url}/health",
        env=UI_ENV,
        wait_seconds=wait_seconds,
    )


def runs_url(base_url: str, settings: Settings | None = None) -> str:
    """The UI's page of the course experiment's runs, in its "model training" view (not the GenAI one)."""
    from workbench.core.tracking import experiment_id

    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id(settings)}/runs?workflowType=machine_learning"
