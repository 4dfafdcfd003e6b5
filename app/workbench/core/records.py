"""Where a learner's records live: the storage boundary that every chapter's saved work goes through.

A record is a small document a learner's work leaves behind (answers, hands-on evidence, generated files),
named by a key such as ``ch05_mlflow/answers.json``: the chapter key first, then a path. Solo mode keeps
records as files under the state directory; class mode keeps them in the database (issue 15). Sandboxes that
can be recreated (git repositories, package builds) are not records: they stay folders on disk.
"""

from __future__ import annotations

from typing import Protocol


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
