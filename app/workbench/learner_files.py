"""Small JSON files a learner's work leaves behind (answers, records), written atomically.

Every hands-on check reads what the learner did from files under `settings.learner_dir(learner)`; they
all go through these helpers so a crash never leaves a half-written file and a corrupt file reads as empty.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def read_json(path: Path, default: Any = None) -> Any:
    """The parsed content of `path`, or `default` when it is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return default


def write_text(path: Path, text: str) -> None:
    """Write `text` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write `data` as JSON, atomically; the old file stays intact if `data` cannot be encoded."""
    write_text(path, json.dumps(data, indent=1, default=str))


def update_json(path: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Merge `updates` into the JSON object stored at `path` (created if needed); returns the result."""
    current = read_json(path, {})
    merged = {**(current if isinstance(current, dict) else {}), **updates}
    write_json(path, merged)
    return merged
