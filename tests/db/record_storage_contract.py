"""What every `RecordStorage` must do, as plain functions: a test module runs them on its own storage.

from tests.db.record_storage_contract import CONTRACT
@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
def test_contract(check, storage): check(storage)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from workbench.core.records import RecordStorage


def read_what_was_written(storage: RecordStorage) -> None:
    assert storage.read("ana", "ch05_mlflow/answers.json") is None
    storage.write("ana", "ch05_mlflow/answers.json", b'{"q1": [2]}')
    assert storage.read("ana", "ch05_mlflow/answers.json") == b'{"q1": [2]}'
    storage.write("ana", "ch05_mlflow/answers.json", b"")
    assert storage.read("ana", "ch05_mlflow/answers.json") == b""


def bytes_survive_exactly(storage: RecordStorage) -> None:
    data = bytes(range(256)) * 40 + "zoé ✓".encode()
    storage.write("ana", "ch04_packaging/dist/pkg.whl", data)
    assert storage.read("ana", "ch04_packaging/dist/pkg.whl") == data


def learners_are_isolated(storage: RecordStorage) -> None:
    storage.write("ana", "ch10_monitoring/report.json", b"ana's")
    storage.write("bob", "ch10_monitoring/report.json", b"bob's")
    assert storage.read("ana", "ch10_monitoring/report.json") == b"ana's"
    assert storage.keys("bob") == ["ch10_monitoring/report.json"]
    assert storage.delete("bob", "ch10_monitoring/report.json") is True
    assert storage.read("ana", "ch10_monitoring/report.json") == b"ana's"
    assert storage.read("bob", "ch10_monitoring/report.json") is None


def keys_by_prefix_sorted(storage: RecordStorage) -> None:
    for key in ("ch05_mlflow/b.json", "ch05_mlflow/a.json", "ch05_mlflowx/c.json", "CH05_MLFLOW/d.json", "ch07/e"):
        storage.write("ana", key, b"x")
    assert storage.keys("ana", "ch05_mlflow/") == ["ch05_mlflow/a.json", "ch05_mlflow/b.json"]
    assert storage.keys("ana") == sorted(
        ["ch05_mlflow/b.json", "ch05_mlflow/a.json", "ch05_mlflowx/c.json", "CH05_MLFLOW/d.json", "ch07/e"]
    )
    assert storage.keys("ana", "ch05_mlflow") == ["ch05_mlflow/a.json", "ch05_mlflow/b.json", "ch05_mlflowx/c.json"]
    assert storage.keys("nobody") == []


def delete_one_and_by_prefix(storage: RecordStorage) -> None:
    for key in ("ch08_cicd/a", "ch08_cicd/sub/b", "ch09_kubernetes/c"):
        storage.write("ana", key, b"1")
    storage.write("bob", "ch08_cicd/a", b"1")
    assert storage.delete("ana", "ch08_cicd/missing") is False
    assert storage.delete_prefix("ana", "ch08_cicd/") == 2
    assert storage.keys("ana") == ["ch09_kubernetes/c"] and storage.keys("bob") == ["ch08_cicd/a"]
    assert storage.delete_prefix("ana", "ch08_cicd/") == 0


def prefix_is_literal(storage: RecordStorage) -> None:
    storage.write("ana", "ch01/100%_done", b"1")
    storage.write("ana", "ch01/1000_done", b"1")
    storage.write("ana", "ch01/a_b", b"1")
    storage.write("ana", "ch01/axb", b"1")
    assert storage.keys("ana", "ch01/100%") == ["ch01/100%_done"]
    assert storage.keys("ana", "ch01/a_") == ["ch01/a_b"]
    assert storage.delete_prefix("ana", "ch01/a_") == 1 and storage.read("ana", "ch01/axb") == b"1"


def concurrent_writers_never_tear(storage: RecordStorage) -> None:
    big = {w: bytes([w]) * 200_000 for w in range(4)}
    torn: list[bytes] = []

    def write(worker: int) -> None:
        for _ in range(10):
            storage.write("ana", "ch06_docker/image.tar", big[worker])
            data = storage.read("ana", "ch06_docker/image.tar")
            if data not in big.values():
                torn.append(data or b"")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert torn == [] and storage.read("ana", "ch06_docker/image.tar") in big.values()


CONTRACT: list[Callable[[RecordStorage], None]] = [
    read_what_was_written,
    bytes_survive_exactly,
    learners_are_isolated,
    keys_by_prefix_sorted,
    delete_one_and_by_prefix,
    prefix_is_literal,
    concurrent_writers_never_tear,
]
