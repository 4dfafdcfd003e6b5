"""Settings: one frozen object built lazily from environment variables.

Every setting has a local default so the workbench runs offline on one laptop;
a class deployment (Docker, Kubernetes) overrides them with environment variables.
Tests swap them by setting the variables and calling `get_settings.cache_clear()`.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
LANGUAGES: tuple[str, ...] = ("fr", "en")
#: MLflow sends anonymous usage telemetry unless one of these says no: off in the workbench (see disable_telemetry).
NO_TELEMETRY: dict[str, str] = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@dataclass(frozen=True)
class Settings:
    """Where the workbench keeps its state and how it reaches its services."""

    repo_root: Path
    state_dir: Path
    lang: str
    learner: str
    data_path: Path
    mlflow_tracking_uri: str
    model_name: str
    api_host: str
    api_port: int
    mlflow_ui_port: int
    api_alias: str = "production"
    api_rate_limit: float = 0.0  # requests per second per client; 0 turns the limit off
    api_rate_burst: int = 20
    api_max_body_bytes: int = 1_000_000
    api_max_batch: int = 1000
    api_poll_seconds: float = 2.0
    app_origins: tuple[str, ...] = ("http://localhost:8501", "http://127.0.0.1:8501")
    #: Load registry models that can run code when loaded (pickle, cloudpickle, skops types outside the
    #: workbench's reviewed list). Off: such models are refused, and the last good model keeps serving.
    allow_pickle_models: bool = False
    #: Bearer token for the API's admin endpoints (/reload, /recent_inputs); empty: none configured.
    api_admin_token: str = field(default="", repr=False)
    #: Addresses (IPs or CIDR networks, comma-separated) whose X-Forwarded-For headers the API trusts.
    api_trusted_proxies: str = ""
    api_startup_seconds: float = 10.0  # the API serves after this long even if the registry has not answered
    api_header_timeout: float = 10.0  # seconds a client has to send a request's headers
    api_body_timeout: float = 30.0  # seconds a client has to send a request's body
    api_limit_concurrency: int = 200  # connections + requests in progress; more: 503
    #: Class mode: how many learners' models the shared API keeps loaded (least recently used go first).
    api_learner_models: int = 8
    #: Let an unexpected error in a page propagate (tests, debugging) instead of becoming a short message.
    raise_errors: bool = False
    #: "solo" (one learner on a laptop, the default) or "class" (a shared deployment: sign-in, roster,
    #: a teacher's dashboard, each learner's own registered model).
    mode: str = "solo"
    #: SQLAlchemy URL of the database holding progress, records and the roster (e.g. postgresql+psycopg://…);
    #: empty: SQLite under the state directory.
    database_url: str = field(default="", repr=False)

    @property
    def class_mode(self) -> bool:
        """True on a shared deployment for a class (WORKBENCH_MODE=class)."""
        return self.mode == "class"

    def learner_model_name(self, learner: str) -> str:
        """The registered model a learner trains, promotes and serves: shared in solo mode, their own in class."""
        return f"{self.model_name}-{learner_key(learner)}" if self.class_mode else self.model_name

    @property
    def lessons_dir(self) -> Path:
        """Folder of the Markdown lessons and exercise files."""
        return self.repo_root / "lessons"

    @property
    def progress_db(self) -> Path:
        """SQLite file that stores every learner's progress."""
        return self.state_dir / "progress.db"

    def learner_dir(self, learner: str) -> Path:
        """A learner's private working folder under the state dir (not created here): one per exact name."""
        return self.state_dir / "learners" / learner_key(learner)

    def legacy_learner_dir(self, learner: str) -> Path:
        """The folder the workbench used for this name before folders became one per name (see learner_key)."""
        return self.state_dir / "learners" / safe_name(learner)


def safe_name(name: str) -> str:
    """A readable, file-system-safe version of a name (letters, digits, `-`, `_`, `.`); NOT one-to-one.

    `bob!`, `bob?` and `bob_` give the same result: use `learner_key` to name anything that belongs to
    one learner. Kept for readable identifiers (a git e-mail) and to find the folders named this way before.
    """
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip())
    return cleaned.strip(".") or "learner"


def learner_key(name: str) -> str:
    """A learner's folder name: a readable slug plus a short hash of the exact name, so two names never share.

    `Zoé Martin` → `Zoé_Martin-<12 hex digits>`; `bob!`, `bob?`, `bob_`, `..` and `` each get their own key.
    Only letters, digits, `_` and `-`: never `.` or `/`, so a key cannot leave the learners' folder.
    """
    slug = re.sub(r"[^\w-]+", "_", unicodedata.normalize("NFC", name), flags=re.UNICODE).strip("_-")[:40]
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug or 'learner'}-{digest}"


def default_learner() -> str:
    """The OS user name, or `learner` when it cannot be read (some containers)."""
    try:
        return getpass.getuser() or "learner"
    except (KeyError, OSError):
        return "learner"


def disable_telemetry() -> None:
    """Turn MLflow's usage telemetry off in this process and in every process it starts (they inherit it).

    Nothing leaves the machine unless the user asks: a value the user set for either variable is kept.
    """
    for name, value in NO_TELEMETRY.items():
        os.environ.setdefault(name, value)


class SettingsError(ValueError):
    """An environment variable holds a value the workbench cannot use (the message names it and what it wants)."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    """The whole number in `env[name]` (or `default`), between `minimum` and `maximum`.

    Raises:
        SettingsError: not a whole number, or out of range; the message names the variable.
    """
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number between {minimum} and {maximum}, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    """A setting with a closed set of values, or a SettingsError naming the variable and the values."""
    value = env.get(name, "").strip().lower() or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings from the environment (cached; clear the cache to rebuild).

    Every workbench process (app, API, `python -m workbench.core.train`, checks) asks for its settings before it
    imports mlflow, so this is where telemetry is turned off, once, for it and everything it starts.
    """
    disable_telemetry()
    env = os.environ
    state_dir = Path(env.get("WORKBENCH_STATE_DIR", REPO_ROOT / ".workbench")).resolve()
    lang = env.get("WORKBENCH_LANG", "fr").strip().lower()
    if lang not in LANGUAGES:
        lang = "fr"
    tracking_uri = env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{state_dir / 'mlflow.db'}"
    return Settings(
        repo_root=REPO_ROOT,
        state_dir=state_dir,
        lang=lang,
        learner=env.get("WORKBENCH_LEARNER") or default_learner(),
        data_path=Path(env.get("WORKBENCH_DATA", REPO_ROOT / "data" / "loan.csv")),
        mlflow_tracking_uri=tracking_uri,
        model_name=env.get("WORKBENCH_MODEL_NAME", "loan-approval"),
        api_host=env.get("WORKBENCH_API_HOST", "127.0.0.1"),
        api_port=_int(env, "WORKBENCH_API_PORT", 8000, 1, 65535),
        mlflow_ui_port=_int(env, "WORKBENCH_MLFLOW_UI_PORT", 5000, 1, 65535),
        api_alias=env.get("WORKBENCH_API_ALIAS", "production"),
        api_rate_limit=float(env.get("WORKBENCH_API_RATE_LIMIT", "0")),
        api_rate_burst=_int(env, "WORKBENCH_API_RATE_BURST", 20, 1, 1_000_000),
        api_max_body_bytes=_int(env, "WORKBENCH_API_MAX_BODY_BYTES", 1_000_000, 1, 1_000_000_000),
        api_max_batch=_int(env, "WORKBENCH_API_MAX_BATCH", 1000, 1, 1_000_000),
        api_poll_seconds=float(env.get("WORKBENCH_API_POLL_SECONDS", "2")),
        app_origins=tuple(
            o.strip()
            for o in env.get("WORKBENCH_APP_ORIGINS", "http://localhost:8501,http://127.0.0.1:8501").split(",")
            if o.strip()
        ),
        allow_pickle_models=_flag(env, "WORKBENCH_API_ALLOW_PICKLE"),
        api_admin_token=env.get("WORKBENCH_API_ADMIN_TOKEN", "").strip(),
        api_trusted_proxies=env.get("WORKBENCH_API_TRUSTED_PROXIES", "").strip(),
        api_startup_seconds=float(env.get("WORKBENCH_API_STARTUP_SECONDS", "10")),
        api_header_timeout=float(env.get("WORKBENCH_API_HEADER_TIMEOUT", "10")),
        api_body_timeout=float(env.get("WORKBENCH_API_BODY_TIMEOUT", "30")),
        api_limit_concurrency=_int(env, "WORKBENCH_API_LIMIT_CONCURRENCY", 200, 1, 1_000_000),
        api_learner_models=_int(env, "WORKBENCH_API_LEARNER_MODELS", 8, 1, 1000),
        raise_errors=bool(env.get("WORKBENCH_RAISE_ERRORS", "").strip()),
        mode=_choice(env, "WORKBENCH_MODE", "solo", ("solo", "class")),
        database_url=env.get("WORKBENCH_DATABASE_URL", "").strip(),
    )
