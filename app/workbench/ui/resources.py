"""Cached course data and the models trained on it, all keyed by one dataset fingerprint.

The fingerprint is the SHA-256 of the data file's content, computed once per change of the file (its stat:
size, modification and change times, inode). Replacing the file with other content — even of the same size
and modification time — gives a new fingerprint, so every cached table and model follows; touching it
with the same content gives the same fingerprint, so nothing is re-read into a new entry or retrained.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Hashable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from workbench.core.settings import get_settings

T = TypeVar("T")


@lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int, ctime_ns: int, inode: int) -> str:
    """SHA-256 of the file's content; the stat fields only key the memo (a new stat: read again)."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_fingerprint(path: Path) -> str:
    """The content hash of a file (`missing:<path>` when it does not exist), read again only when it changes."""
    try:
        info = os.stat(path)
    except OSError:
        return f"missing:{path}"
    return _digest(str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def course_fingerprint() -> str:
    """The fingerprint of the course data file the settings name."""
    return file_fingerprint(get_settings().data_path)


@st.cache_data(show_spinner=False, max_entries=4)
def _course_data(fingerprint: str, _path: str) -> pd.DataFrame:
    from workbench.core.data import load_course_data

    return load_course_data(Path(_path))


def course_data() -> pd.DataFrame:
    """The course dataset, read once per content of the data file (shared by every session).

    Raises:
        CourseDataError, OSError: the file cannot feed the labs.
    """
    path = get_settings().data_path
    return _course_data(file_fingerprint(path), str(path))


@st.cache_resource(show_spinner=False, max_entries=32)
def _trained(fingerprint: str, name: str, args: tuple, _train: Callable[..., Any]) -> Any:
    return _train(course_data(), *args)


def trained_on_course_data(name: str, train: Callable[..., T], *args: Hashable) -> T:
    """`train(course_data(), *args)`, computed once per (dataset fingerprint, `name`, `args`) for every session.

    `name` identifies what `train` builds (two different functions must not share one); the result is shared,
    so callers must not change it.
    """
    return _trained(course_fingerprint(), name, tuple(args), train)


@st.cache_data(show_spinner=False, max_entries=16)
def _loaded_file(fingerprint: str, _path: str, _load: Callable[[Path], Any], name: str) -> Any:
    return _load(Path(_path))


def loaded_file(name: str, path: Path, load: Callable[[Path], T]) -> T:
    """`load(path)` for a teacher-edited file (lessons, questions), re-run only when its content changes."""
    return _loaded_file(file_fingerprint(path), str(path), load, name)
