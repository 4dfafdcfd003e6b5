"""Background services started from the workbench (MLflow UI, prediction API): start, status, stop.

Each service runs in its own process group (so stopping it also stops the workers it forks) and is
remembered in a small JSON file under the state dir, so any page or session can see and stop it.
A service lives as long as the app that started it: when the app's process exits (Ctrl+C on
`streamlit run`, SIGTERM from Docker), its services are stopped too; one left behind by an app that was
killed outright is still recorded, so the next app sees it and can stop it. Stopping leaves no orphan process.
A record also holds the process's start time: once the service is gone and the system gives its PID to
another process, the record is recognised as stale, so `status` does not report that process as the
service and `stop` never signals it.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from workbench.core.i18n import LocalizedError
from workbench.core.settings import Settings


class ServiceError(LocalizedError, RuntimeError):
    """A service that cannot start (port taken, exits, never healthy): `message(lang)` for the learner."""

    namespace = "services"


@dataclass(frozen=True)
class ServiceStatus:
    """What is known about a service."""

    name: str
    running: bool  # the process is alive
    healthy: bool  # it answers its health URL
    pid: int | None = None
    url: str | None = None
    log_path: Path | None = None


def _record_path(settings: Settings, name: str) -> Path:
    return settings.state_dir / "services" / f"{name}.json"


def log_path(settings: Settings, name: str) -> Path:
    """Where a service's output goes."""
    return settings.state_dir / "services" / f"{name}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not alive.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def process_identity(pid: int) -> str | None:
    """When the process `pid` started (kernel clock ticks on Linux, `ps` elsewhere); None if there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[19]  # field 22, starttime
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None  # Linux: no such process
    except (OSError, IndexError):
        return None
    try:
        result = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def _command_line(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return None


def _is_ours(record: dict) -> bool | None:
    """Whether the record's PID is still the process we started: None when no process has that PID,
    False when another process now has it (a stale record)."""
    started = process_identity(record["pid"])
    if started is None:
        return None
    if record.get("started") is not None:
        return started == record["started"]
    command = _command_line(record["pid"])  # records written before start times were kept
    return command is None or command == list(record.get("command", []))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(_alive(pid) for pid in _group_members(pgid)) if Path("/proc").is_dir() else True


def _group_members(pgid: int) -> list[int]:
    """Live processes (zombies excluded) of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    """Wait until `url` answers HTTP 200.

    Raises:
        TimeoutError: it did not within `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check_health(url, timeout=2.0):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) != 0


def check_health(url: str, timeout: float = 2.0) -> bool:
    """True when `url` answers HTTP 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def status(settings: Settings, name: str) -> ServiceStatus:
    """Whether the service recorded under `name` runs and answers its health URL."""
    path = _record_path(settings, name)
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return ServiceStatus(name, False, False)
    running = _alive(record["pid"]) and _is_ours(record) is True
    healthy = running and check_health(record["health_url"])
    return ServiceStatus(name, running, healthy, record["pid"], record["url"], Path(record["log"]))


def start(
    settings: Settings,
    name: str,
    command: Sequence[str],
    *,
    url: str,
    health_url: str,
    env: dict[str, str] | None = None,
    wait_seconds: float = 60.0,
) -> ServiceStatus:
    """Start a service in its own process group and wait until it is healthy.

    Two sessions clicking "Start" at once start it once: the second waits, then finds it running.

    Raises:
        ServiceError (a RuntimeError): the port is taken, or the process exits / never becomes healthy
            (the message ends with the last lines of its log).
    """
    lock_path = _record_path(settings, name).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path):
        return _start_locked(settings, name, command, url, health_url, env, wait_seconds)


def _start_locked(
    settings: Settings,
    name: str,
    command: Sequence[str],
    url: str,
    health_url: str,
    env: dict[str, str] | None,
    wait_seconds: float,
) -> ServiceStatus:
    current = status(settings, name)
    if current.running:
        return current
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    if not port_is_free(host, int(port)):
        raise ServiceError("port_in_use", port=port, host=host)
    log = log_path(settings, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    full_env = dict(os.environ, **(env or {}))
    full_env["PATH"] = bin_dir + os.pathsep + full_env.get("PATH", "")  # e.g. `mlflow` of this venv
    with log.open("w") as out:
        proc = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=settings.repo_root,
            start_new_session=True,
        )
    record = {
        "pid": proc.pid,
        "started": process_identity(proc.pid),
        "url": url,
        "health_url": health_url,
        "log": str(log),
        "command": list(command),
    }
    _record_path(settings, name).write_text(json.dumps(record))
    atexit.register(_stop_if_still, settings, name, proc.pid)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _record_path(settings, name).unlink(missing_ok=True)
            raise ServiceError("exited", name=name, code=proc.returncode, log=tail(log))
        if check_health(health_url):
            return status(settings, name)
        time.sleep(0.2)
    stop(settings, name)
    raise ServiceError("not_healthy", name=name, seconds=wait_seconds, log=tail(log))


def stop(settings: Settings, name: str, timeout: float = 10.0) -> bool:
    """Stop the service and every process it started. Returns True if something was stopped."""
    path = _record_path(settings, name)
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    pgid = record["pid"]
    if _is_ours(record) is False:  # the PID now belongs to another process: never signal it
        path.unlink(missing_ok=True)
        return False
    stopped = False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
            stopped = True
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _group_alive(pgid):
            _reap(pgid)
            time.sleep(0.1)
        if not _group_alive(pgid):
            break
    _reap(pgid)
    path.unlink(missing_ok=True)
    return stopped


def _stop_if_still(settings: Settings, name: str, pid: int) -> None:
    """Stop the service `name` if it is still the process `pid` we started (called when the app exits)."""
    try:
        record = json.loads(_record_path(settings, name).read_text())
    except (OSError, json.JSONDecodeError):
        return
    if record.get("pid") == pid:
        stop(settings, name)


def _reap(pid: int) -> None:
    """Collect the exit status of our own child, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file (empty if missing)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
