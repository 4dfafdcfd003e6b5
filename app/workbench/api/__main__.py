"""`python -m workbench.api`: serve the prediction API with uvicorn (host/port from the settings)."""

from __future__ import annotations

import argparse
import logging

from workbench.api.server import serve
from workbench.core.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    """Parse --host/--port (defaults from WORKBENCH_API_HOST/PORT) and run the server."""
    settings = get_settings()
    parser = argparse.ArgumentParser(description="MLOps Workbench prediction API")
    parser.add_argument("--host", default=settings.api_host)
    parser.add_argument("--port", type=int, default=settings.api_port)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(settings, args.host, args.port, args.log_level)


if __name__ == "__main__":
    main()
