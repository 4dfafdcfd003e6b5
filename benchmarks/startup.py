"""Startup benchmark: the workbench vs `streamlit hello`, measured side by side in one run.

For each app (interleaved, several rounds):
  * health: seconds from process start until `/_stcore/health` answers 200;
  * render: seconds from process start until the first page is fully rendered in headless Chromium.
Then each page's AppTest render time, cold (first run in the process) and warm (second run).

Usage: python benchmarks/startup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from workbench.core.services import free_port

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GOAL_RATIO = 1.5
GOAL_WARM_SECONDS = 1.0


def measure_server(args: list[str], browser, env: dict) -> tuple[float, float]:
    """Start a streamlit server; return (seconds to health, seconds to a rendered first page)."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            *args,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.02)
        health = time.perf_counter() - start
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("h1", timeout=60_000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        rendered = time.perf_counter() - start
        page.close()
        return health, rendered
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def apptest_times() -> list[tuple[str, float, float]]:
    """(page, cold seconds, warm seconds) for Home and every chapter, in a fresh process."""
    code = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
from workbench.chapters import CHAPTERS
home = sys.argv[1]
out = []
for name, page in [("Home", None)] + [(c.key, f"../pages/{c.key}.py") for c in CHAPTERS]:
    times = []
    for _ in range(2):
        at = AppTest.from_file(home, default_timeout=120)
        at.run()
        if page:
            at.switch_page(page)
            start = time.perf_counter(); at.run(); times.append(time.perf_counter() - start)
        else:
            at = AppTest.from_file(home, default_timeout=120)
            start = time.perf_counter(); at.run(); times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
    out.append((name, times[0], times[1]))
print(json.dumps(out))
"""
    import json

    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "app" / "Home.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=os.environ | {"PYTHONWARNINGS": "ignore"},
    )
    return [tuple(row) for row in json.loads(result.stdout.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    state = tempfile.mkdtemp(prefix="wb-bench-")
    env = os.environ | {"WORKBENCH_STATE_DIR": state, "MLFLOW_TRACKING_URI": f"sqlite:///{state}/mlflow.db"}
    results: dict[str, list[tuple[float, float]]] = {"workbench": [], "hello": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        measure_server(["hello"], browser, env)  # warm the OS file cache for both
        measure_server(["run", "app/Home.py"], browser, env)
        for _ in range(args.rounds):
            results["hello"].append(measure_server(["hello"], browser, env))
            results["workbench"].append(measure_server(["run", "app/Home.py"], browser, env))
        browser.close()

    med = {k: (statistics.median(h for h, _ in v), statistics.median(r for _, r in v)) for k, v in results.items()}
    print(f"\nStartup, median of {args.rounds} interleaved rounds (seconds from process start)")
    print(f"| measure | workbench | streamlit hello | ratio (goal <= {GOAL_RATIO}x) |")
    print("|---|---|---|---|")
    for i, label in enumerate(("/_stcore/health answers", "first page rendered")):
        ratio = med["workbench"][i] / med["hello"][i]
        print(f"| {label} | {med['workbench'][i]:.2f} | {med['hello'][i]:.2f} | {ratio:.2f}x |")

    print(f"\nAppTest render time per page (goal warm <= {GOAL_WARM_SECONDS:.1f} s)")
    print("| page | cold (s) | warm (s) |")
    print("|---|---|---|")
    for name, cold, warm in apptest_times():
        flag = "" if warm <= GOAL_WARM_SECONDS else "  (over goal)"
        print(f"| {name} | {cold:.2f} | {warm:.2f}{flag} |")


if __name__ == "__main__":
    main()
