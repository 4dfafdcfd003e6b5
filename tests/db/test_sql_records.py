"""SqlRecordStorage meets the RecordStorage contract on SQLite and the real PostgreSQL, and is shared."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from workbench.core.db.records import SqlRecordStorage
from workbench.core.records import RecordStorage

from tests.conftest import REPO_ROOT
from tests.db.record_storage_contract import CONTRACT


@pytest.fixture
def storage(database_url: str) -> SqlRecordStorage:
    return SqlRecordStorage(database_url)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_contract(check: Callable[[RecordStorage], None], storage: SqlRecordStorage) -> None:
    check(storage)


def test_is_a_record_storage(storage: SqlRecordStorage) -> None:
    typed: RecordStorage = storage  # mypy would refuse a storage missing a method
    assert all(callable(getattr(typed, m)) for m in ("read", "write", "delete", "keys", "delete_prefix"))


def test_another_process_sees_a_write_at_once(storage: SqlRecordStorage, database_url: str) -> None:
    storage.write("ana", "ch05_mlflow/evidence.json", b'{"run": "abc"}')
    code = (
        "import sys; from workbench.core.db.records import SqlRecordStorage as S; s = S(sys.argv[1]); "
        "print(s.read('ana', 'ch05_mlflow/evidence.json').decode()); s.write('ana', 'ch05_mlflow/evidence.json', b'2')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, database_url],
        env={"PYTHONPATH": str(REPO_ROOT / "app"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"run": "abc"}'
    assert storage.read("ana", "ch05_mlflow/evidence.json") == b"2"


def test_a_shared_deployment_keeps_learner_records_in_the_database(
    database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With WORKBENCH_DATABASE_URL set, a chapter's saved answers go to the database, not the pod's disk."""
    from workbench.core.records import records_for
    from workbench.core.settings import get_settings

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", database_url)
    get_settings.cache_clear()
    settings = get_settings()
    records_for(settings, "ana").put_json("ch05_mlflow/answers.json", {"q": 1})
    assert SqlRecordStorage(database_url).read("ana", "ch05_mlflow/answers.json") is not None
    assert not (settings.learner_dir("ana") / "records").exists()  # nothing on this replica's disk
    assert records_for(settings, "ana").get_json("ch05_mlflow/answers.json") == {"q": 1}
    assert records_for(settings, "bob").get_json("ch05_mlflow/answers.json") is None
    assert records_for(settings, "ana").reset_chapter("05_mlflow") >= 1
    assert SqlRecordStorage(database_url).keys("ana") == []
