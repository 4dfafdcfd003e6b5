"""ui/resources.py: the course data and trained models follow the data file's content, and only its content."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from workbench.core.data import generate_loan_data
from workbench.core.settings import get_settings
from workbench.ui import resources

CALLS: list[int] = []


def _count_rows(data: pd.DataFrame, offset: int = 0) -> int:
    CALLS.append(len(data))
    return len(data) + offset


@pytest.fixture
def data_file(tmp_path, monkeypatch):
    path = tmp_path / "loans.csv"
    generate_loan_data(120, seed=3).to_csv(path, index=False)
    monkeypatch.setenv("WORKBENCH_DATA", str(path))
    get_settings.cache_clear()
    CALLS.clear()
    return path


def test_other_content_with_the_same_size_and_mtime_is_picked_up(data_file) -> None:
    name = f"count-{data_file}"
    first = resources.course_data()
    assert resources.trained_on_course_data(name, _count_rows) == 120
    stat = data_file.stat()
    lines = data_file.read_text().splitlines(keepends=True)
    data_file.write_text(lines[0] + "".join(reversed(lines[1:])))  # same bytes, other order: other content
    os.utime(data_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (data_file.stat().st_size, data_file.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)

    again = resources.course_data()
    assert again["Loan_ID"].tolist() == first["Loan_ID"].tolist()[::-1]
    assert resources.trained_on_course_data(name, _count_rows) == 120
    assert CALLS == [120, 120]  # trained again on the new content


def test_the_same_content_is_neither_read_again_nor_retrained(data_file) -> None:
    name = f"count-{data_file}"
    fingerprint = resources.course_fingerprint()
    assert resources.trained_on_course_data(name, _count_rows, 5) == 125
    data_file.write_bytes(data_file.read_bytes())  # rewritten (new mtime), same content
    os.utime(data_file, ns=(1, 2))
    assert resources.course_fingerprint() == fingerprint
    assert resources.trained_on_course_data(name, _count_rows, 5) == 125
    assert resources.trained_on_course_data(name, _count_rows, 7) == 127  # other arguments: another entry
    assert CALLS == [120, 120]


def test_the_fingerprint_is_the_content_hash_and_a_missing_file_has_its_own(data_file, tmp_path) -> None:
    import hashlib

    assert resources.file_fingerprint(data_file) == hashlib.sha256(data_file.read_bytes()).hexdigest()
    copy = tmp_path / "copy.csv"
    copy.write_bytes(data_file.read_bytes())
    assert resources.file_fingerprint(copy) == resources.file_fingerprint(data_file)
    assert resources.file_fingerprint(tmp_path / "nope.csv").startswith("missing:")
