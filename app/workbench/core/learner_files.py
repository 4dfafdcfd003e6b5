"""Atomic files: the primitive under learner records, and files inside a learner's workspaces.

A learner's saved work (answers, evidence, their Dockerfile…) is a record and goes through
`workbench.core.records.records_for`, never through these helpers directly; they remain for files that
belong to a recreatable workspace (a build cache, a serialization report) and for the record files
themselves, so a crash never leaves a half-written file and a corrupt file reads as empty.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.settings import Settings


def read_json(path: Path, default: Any = None) -> Any:
    """The parsed content of `path`, or `default` when it is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return default


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write `data` as JSON, atomically; the old file stays intact if `data` cannot be encoded."""
    write_text(path, json.dumps(data, indent=1, default=str))


def update_json(path: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Merge `updates` into the JSON object stored at `path` (created if needed); returns the result."""
    current = read_json(path, {})
    merged = {**(current if isinstance(current, dict) else {}), **updates}
    write_json(path, merged)
    return merged


def adopt_legacy_folder(settings: Settings, learner: str) -> Path | None:
    """Give a learner a copy of the folder an earlier version kept their work in, once; returns the new folder.

    Folders used to be named by `safe_name`, which several names shared (`bob!`, `bob?` and `bob_`): the old
    folder is copied (not moved) to the learner's own folder, so every name that used it keeps its work. It
    does nothing when the learner already has a folder or never had an old one.
    """
    new = settings.learner_dir(learner)
    old = settings.legacy_learner_dir(learner)
    if new.exists() or not old.is_dir():
        return None
    staging = new.with_name(f".{new.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(old, staging, symlinks=True)
    try:
        staging.rename(new)
    except OSError:  # another session adopted it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return new
