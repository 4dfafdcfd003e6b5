"""Where a learner's records live: the storage boundary that every chapter's saved work goes through.

A record is a small document a learner's work leaves behind (answers, hands-on evidence, generated files),
named by a key such as ``ch05_mlflow/answers.json``: the chapter's package first, then a path. Solo mode keeps
records as files under the state directory; class mode keeps them in the database (issue 15). Sandboxes that
can be recreated (git repositories, package builds) are not records: they stay folders on disk
(`LearnerRecords.workspace`).

Chapters use one object per learner: ``records_for(settings, learner).get_json("ch02_fundamentals/answers.json")``.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from workbench.core.learner_files import write_bytes

if TYPE_CHECKING:
    from workbench.core.settings import Settings


class RecordStorage(Protocol):
    """Bytes stored per learner under slash-separated keys; every method is safe to call concurrently."""

    def read(self, learner: str, key: str) -> bytes | None:
        """The record's content, or None when it does not exist."""
        ...

    def write(self, learner: str, key: str, data: bytes) -> None:
        """Create or replace a record, atomically (a reader sees the old or the new content, never half)."""
        ...

    def delete(self, learner: str, key: str) -> bool:
        """Remove one record; True when it existed."""
        ...

    def keys(self, learner: str, prefix: str = "") -> list[str]:
        """The learner's record keys that start with `prefix`, sorted."""
        ...

    def delete_prefix(self, learner: str, prefix: str) -> int:
        """Remove every record of the learner whose key starts with `prefix`; returns how many."""
        ...


class RecordKeyError(ValueError):
    """A record key or workspace name that could name something outside the learner's own space."""


#: The folder, inside a learner's folder, that holds their records when they are files.
RECORDS_DIR = "records"

#: Where an earlier version kept each record, relative to the learner's folder: read once, then kept aside
#: as `<file>.migrated` (never deleted), so an existing learner finds their work after the upgrade.
LEGACY_FILES: dict[str, str] = {
    "ch01_introduction/first_models.json": "first_models.json",
    "ch02_fundamentals/answers.json": "fundamentals/answers.json",
    "ch03_deployment_challenges/robustness.json": "challenges/robustness.json",
    "ch03_deployment_challenges/retraining_threshold.json": "challenges/retraining_threshold.json",
    "ch04_packaging/compression_answer.json": "serialization/compression_answer.json",
    "ch05_mlflow/comparisons.json": "comparisons.json",
    "ch06_docker/Dockerfile": "docker/Dockerfile",
    "ch07_web_apps_api/api_lab.json": "api_lab.json",
    "ch08_cicd/history.json": "cicd/history.json",
    "ch09_kubernetes/hpa_sizing.json": "k8s/hpa_sizing.json",
    "ch09_kubernetes/manifest.yaml": "k8s/manifest.yaml",
    "ch10_monitoring/drift_answers.json": "drift_answers.json",
    "ch11_post_production/ab_answers.json": "ch11_answers.json",
    "ch11_post_production/flip.json": "ch11_flip.json",
}


def check_key(key: str, *, prefix: bool = False) -> str:
    """`key` when it is a relative slash-separated path that stays inside the learner's space.

    Segments may not be empty, `.`, `..` or start with a dot (hidden: temporary files); no NUL, no backslash.
    With `prefix=True` the empty string and a trailing partial segment (`ch02_`) are allowed.

    Raises:
        RecordKeyError: the key could escape, or is not a string.
    """
    if not isinstance(key, str) or "\x00" in key or "\\" in key:
        raise RecordKeyError(f"invalid record key: {key!r}")
    if prefix and key == "":
        return key
    parts = key.split("/")
    if prefix and key.endswith("/"):
        parts = parts[:-1]
    if not parts or any(p in ("", ".", "..") or p.startswith(".") for p in parts) or PurePosixPath(key).is_absolute():
        raise RecordKeyError(f"invalid record key: {key!r}")
    return key


class FileRecordStorage:
    """Records as files under `settings.learner_dir(learner)/records/<key>`, written atomically."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def root(self, learner: str) -> Path:
        """The folder of the learner's records (not created here)."""
        return self.settings.learner_dir(learner) / RECORDS_DIR

    def path(self, learner: str, key: str) -> Path:
        """The file of record `key`; never outside the learner's records folder, even through a symlink.

        Raises:
            RecordKeyError: the key is invalid or resolves outside the folder.
        """
        here = str(self.root(learner))
        path = Path(here, check_key(key))
        for part in ("", *key.split("/")):  # no symbolic link from the records folder down to the file
            here = os.path.join(here, part) if part else here
            try:
                link = stat.S_ISLNK(os.lstat(here).st_mode)
            except (FileNotFoundError, NotADirectoryError):
                break  # the rest does not exist yet: writing creates real folders
            if link:
                raise RecordKeyError(f"record key leaves the learner's folder: {key!r}")
        return path

    def read(self, learner: str, key: str) -> bytes | None:
        """The record's content, or None when it does not exist."""
        try:
            return self.path(learner, key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def write(self, learner: str, key: str, data: bytes) -> None:
        """Create or replace a record, atomically."""
        write_bytes(self.path(learner, key), bytes(data))

    def delete(self, learner: str, key: str) -> bool:
        """Remove one record; True when it existed."""
        path = self.path(learner, key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        self._prune(learner, path.parent)
        return True

    def keys(self, learner: str, prefix: str = "") -> list[str]:
        """The learner's record keys that start with `prefix`, sorted (temporary files are not records)."""
        check_key(prefix, prefix=True)
        root = self.root(learner)
        start = root / prefix.rpartition("/")[0] if "/" in prefix else root
        if not start.is_dir() or not start.resolve().is_relative_to(root.resolve()):
            return []
        found = []
        for path in start.rglob("*"):
            key = path.relative_to(root).as_posix()
            hidden = any(part.startswith(".") for part in key.split("/"))
            if not hidden and key.startswith(prefix) and path.is_file() and not path.is_symlink():
                found.append(key)
        return sorted(found)

    def delete_prefix(self, learner: str, prefix: str) -> int:
        """Remove every record whose key starts with `prefix`; returns how many."""
        return sum(self.delete(learner, key) for key in self.keys(learner, prefix))

    def _prune(self, learner: str, folder: Path) -> None:
        """Remove the empty folders left between `folder` and the records root."""
        root = self.root(learner)
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone)
                return
            folder = folder.parent


def storage(settings: Settings) -> RecordStorage:
    """The record storage the settings ask for: the one place that chooses it.

    `settings.database_url` set (a shared deployment): rows of the database's `records` table, so every app
    replica sees a learner's records at once; unset (solo mode): files under the learner's folder.
    """
    if settings.database_url:
        from workbench.core.db import database_url
        from workbench.core.db.records import SqlRecordStorage

        return SqlRecordStorage(database_url(settings))
    return FileRecordStorage(settings)


def chapter_prefix(chapter: str) -> str:
    """The key prefix of a chapter's records: `ch05_mlflow/` for `ch05_mlflow` (package) or `05_mlflow` (key)."""
    package = chapter if chapter.startswith("ch") else f"ch{chapter}"
    return check_key(f"{package.strip('/')}/", prefix=True)


@dataclass(frozen=True)
class LearnerRecords:
    """One learner's records (saved answers, per-learner files) and workspaces, whatever the storage."""

    settings: Settings
    learner: str
    storage: RecordStorage

    def get_bytes(self, key: str) -> bytes | None:
        """The record's raw content, or None."""
        return self.storage.read(self.learner, check_key(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        """Create or replace a record, atomically."""
        self.storage.write(self.learner, check_key(key), data)

    def get_text(self, key: str, default: str | None = None) -> str | None:
        """The record as UTF-8 text, or `default` when it is missing or not text."""
        data = self.get_bytes(key)
        try:
            return default if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            return default

    def put_text(self, key: str, text: str) -> None:
        """Store `text` (UTF-8) under `key`."""
        self.put_bytes(key, text.encode("utf-8"))

    def get_json(self, key: str, default: Any = None) -> Any:
        """The parsed record, or `default` when it is missing or not valid JSON."""
        data = self.get_bytes(key)
        if data is None:
            return default
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return default

    def put_json(self, key: str, data: Any) -> None:
        """Store `data` as JSON; the old record stays intact if `data` cannot be encoded."""
        self.put_text(key, json.dumps(data, indent=1, default=str))

    def update_json(self, key: str, updates: dict[str, Any]) -> dict[str, Any]:
        """Merge `updates` into the JSON object under `key` (a non-object is replaced); returns the result."""
        current = self.get_json(key, {})
        merged = {**(current if isinstance(current, dict) else {}), **updates}
        self.put_json(key, merged)
        return merged

    def delete(self, key: str) -> bool:
        """Remove one record; True when it existed."""
        return self.storage.delete(self.learner, check_key(key))

    def keys(self, prefix: str = "") -> list[str]:
        """The learner's record keys starting with `prefix`, sorted."""
        return self.storage.keys(self.learner, check_key(prefix, prefix=True))

    def where(self, key: str) -> str:
        """Where a record is kept, to show the learner: its file in solo mode, else its key."""
        if isinstance(self.storage, FileRecordStorage):
            return str(self.storage.path(self.learner, check_key(key)))
        return key

    def reset_chapter(self, chapter: str) -> int:
        """Remove every record of one chapter (package `ch05_mlflow` or key `05_mlflow`); returns how many."""
        return self.storage.delete_prefix(self.learner, chapter_prefix(chapter))

    def workspace(self, name: str) -> Path:
        """A folder of the learner's for a sandbox that can be recreated (not created here, not a record).

        `name` is a relative path (`git-sandbox`, `cicd/repo`); it can never leave the learner's folder.

        Raises:
            RecordKeyError: the name is invalid, or is the records folder.
        """
        base = self.settings.learner_dir(self.learner)
        path = base / check_key(name)
        if name.split("/")[0] == RECORDS_DIR or not path.resolve().is_relative_to(base.resolve()):
            raise RecordKeyError(f"invalid workspace name: {name!r}")
        return path


def migrate_legacy_files(settings: Settings, learner: str, store: RecordStorage) -> list[str]:
    """Move the records an earlier version kept as loose files into `store`, once; returns the keys moved.

    The old file is claimed by a rename (so two sessions never both move it), copied into the storage unless
    the record already exists there (newer work wins), then kept as `<file>.migrated`: no data is ever lost.
    """
    base = settings.learner_dir(learner)
    moved = []
    for key, old in LEGACY_FILES.items():
        path = base / old
        if not path.is_file() or path.is_symlink():
            continue
        claimed = path.with_name(f".{path.name}.migrating-{os.getpid()}")
        try:
            path.rename(claimed)
        except OSError:  # another session claimed it first
            continue
        if store.read(learner, key) is None:
            store.write(learner, key, claimed.read_bytes())
            moved.append(key)
        claimed.rename(path.with_name(f"{path.name}.migrated"))
    return moved


#: Left in a learner's folder once its loose files have been looked for: later calls skip the search.
MIGRATED_MARKER = ".records-migrated"


def records_for(settings: Settings, learner: str) -> LearnerRecords:
    """The records of `learner`, in the storage the settings choose (older loose files moved in first, once)."""
    store = storage(settings)
    base = settings.learner_dir(learner)
    if base.is_dir() and not (base / MIGRATED_MARKER).exists():
        migrate_legacy_files(settings, learner, store)
        if not any((base / old).is_file() for old in LEGACY_FILES.values()):  # none left to another session
            (base / MIGRATED_MARKER).touch()
    return LearnerRecords(settings, learner, store)
