"""LearnerRecords and the file storage: one API for a learner's saved work, never outside their folder."""

from __future__ import annotations

import json
import os

import pytest
from workbench.core.records import (
    LEGACY_FILES,
    MIGRATED_MARKER,
    FileRecordStorage,
    LearnerRecords,
    RecordKeyError,
    RecordStorage,
    records_for,
    storage,
)
from workbench.core.settings import get_settings


def test_the_file_storage_is_a_record_storage_and_round_trips_bytes() -> None:
    settings = get_settings()
    store: RecordStorage = storage(settings)
    assert isinstance(store, FileRecordStorage)
    assert store.read("ana", "ch02_fundamentals/answers.json") is None
    store.write("ana", "ch02_fundamentals/answers.json", b'{"q": 1}')
    store.write("ana", "ch02_fundamentals/deep/er.txt", b"x")
    store.write("ana", "ch03_deployment_challenges/a.json", b"[]")
    store.write("bob", "ch02_fundamentals/answers.json", b"bob's")
    assert store.read("ana", "ch02_fundamentals/answers.json") == b'{"q": 1}'
    assert store.keys("ana") == [
        "ch02_fundamentals/answers.json",
        "ch02_fundamentals/deep/er.txt",
        "ch03_deployment_challenges/a.json",
    ]
    assert store.keys("ana", "ch02_fundamentals/d") == ["ch02_fundamentals/deep/er.txt"]
    assert store.keys("ana", "ch0") == store.keys("ana")
    assert store.keys("nobody") == []
    assert store.path("ana", "ch02_fundamentals/answers.json").parent.parent == settings.learner_dir("ana") / "records"
    assert store.delete_prefix("ana", "ch02_fundamentals/") == 2
    assert store.keys("ana") == ["ch03_deployment_challenges/a.json"]
    assert not (store.root("ana") / "ch02_fundamentals").exists()  # no empty folders left behind
    assert store.read("bob", "ch02_fundamentals/answers.json") == b"bob's"  # another learner is untouched
    assert store.delete("ana", "ch03_deployment_challenges/a.json") is True
    assert store.delete("ana", "ch03_deployment_challenges/a.json") is False


@pytest.mark.parametrize(
    "key",
    ["../x", "a/../../x", "/etc/passwd", "a//b", "", ".", "a/./b", "a\x00b", "a\\..\\x", ".hidden", "a/", "..", 3],
)
def test_hostile_keys_are_refused_everywhere(key) -> None:
    records = records_for(get_settings(), "ana")
    for call in (
        lambda: records.get_json(key),
        lambda: records.put_text(key, "x"),
        lambda: records.delete(key),
        lambda: records.workspace(key),
    ):
        with pytest.raises(RecordKeyError):
            call()
    assert not get_settings().state_dir.exists() or not any(get_settings().state_dir.rglob("x"))


def test_a_symlink_cannot_lead_a_key_out_of_the_learner_folder(tmp_path) -> None:
    settings = get_settings()
    store = FileRecordStorage(settings)
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root("ana").mkdir(parents=True)
    (store.root("ana") / "ch02_fundamentals").symlink_to(outside)
    with pytest.raises(RecordKeyError):
        store.write("ana", "ch02_fundamentals/x.json", b"pwned")
    assert list(outside.iterdir()) == []
    assert store.keys("ana", "ch02_fundamentals/") == []
    with pytest.raises(RecordKeyError):
        store.keys("ana", "../")


def test_json_text_update_and_defaults() -> None:
    records = records_for(get_settings(), "Zoé Martin")
    assert records.get_json("ch07_web_apps_api/api_lab.json", {"d": 1}) == {"d": 1}
    assert records.update_json("ch07_web_apps_api/api_lab.json", {"a": 1}) == {"a": 1}
    assert records.update_json("ch07_web_apps_api/api_lab.json", {"b": "é"}) == {"a": 1, "b": "é"}
    records.put_json("ch07_web_apps_api/list.json", [1, 2])
    assert records.update_json("ch07_web_apps_api/list.json", {"c": 3}) == {"c": 3}
    records.put_bytes("ch07_web_apps_api/bad.json", b"{broken")
    assert records.get_json("ch07_web_apps_api/bad.json", []) == []
    records.put_bytes("ch07_web_apps_api/bin", b"\xff\xfe")
    assert records.get_text("ch07_web_apps_api/bin", "none") == "none"
    records.put_text("ch06_docker/Dockerfile", "FROM python:3.12-slim\n")
    assert records.get_text("ch06_docker/Dockerfile") == "FROM python:3.12-slim\n"
    assert records.keys("ch06") == ["ch06_docker/Dockerfile"]


def test_a_failed_write_keeps_the_old_record_and_leaves_no_temporary_file() -> None:
    records = records_for(get_settings(), "ana")
    records.put_json("ch05_mlflow/comparisons.json", {"ok": True})
    with pytest.raises(TypeError):
        records.put_json("ch05_mlflow/comparisons.json", {"bad": object.__new__(type("X", (), {"__str__": None}))})
    assert records.get_json("ch05_mlflow/comparisons.json") == {"ok": True}
    folder = FileRecordStorage(get_settings()).root("ana") / "ch05_mlflow"
    assert [p.name for p in folder.iterdir()] == ["comparisons.json"]


def test_reset_chapter_removes_that_chapter_only_and_accepts_key_or_package() -> None:
    records = records_for(get_settings(), "ana")
    records.put_json("ch02_fundamentals/answers.json", {})
    records.put_json("ch02_fundamentals/more/x.json", {})
    records.put_json("ch03_deployment_challenges/robustness.json", [])
    records.put_json("ch10_monitoring/drift_answers.json", {})
    records_for(get_settings(), "bob").put_json("ch02_fundamentals/answers.json", {})
    assert records.reset_chapter("02_fundamentals") == 2
    assert records.keys() == ["ch03_deployment_challenges/robustness.json", "ch10_monitoring/drift_answers.json"]
    assert records.reset_chapter("ch10_monitoring") == 1
    assert records.keys() == ["ch03_deployment_challenges/robustness.json"]
    assert records_for(get_settings(), "bob").keys() == ["ch02_fundamentals/answers.json"]


def test_workspaces_are_folders_of_the_learner_and_not_records() -> None:
    settings = get_settings()
    records = records_for(settings, "ana")
    assert records.workspace("git-sandbox") == settings.learner_dir("ana") / "git-sandbox"
    assert records.workspace("cicd/repo") == settings.learner_dir("ana") / "cicd" / "repo"
    assert not records.workspace("git-sandbox").exists()  # not created here
    with pytest.raises(RecordKeyError):
        records.workspace("records")  # the records' own folder is not a workspace
    records.workspace("git-sandbox").mkdir(parents=True)
    (records.workspace("git-sandbox") / "file.txt").write_text("x")
    assert records.keys() == []


def _write_the_old_way(settings, learner: str) -> dict[str, bytes]:
    """A learner folder as earlier versions left it: loose files, one per chapter's habit."""
    base = settings.learner_dir(learner)
    contents = {}
    for key, old in LEGACY_FILES.items():
        data = b"FROM python:3.11\n" if key.endswith(("Dockerfile", ".yaml")) else json.dumps({"old": key}).encode()
        (base / old).parent.mkdir(parents=True, exist_ok=True)
        (base / old).write_bytes(data)
        contents[key] = data
    return contents


def test_an_existing_learner_finds_every_old_file_and_nothing_is_lost() -> None:
    settings = get_settings()
    contents = _write_the_old_way(settings, "old-timer")
    records = records_for(settings, "old-timer")
    for key, data in contents.items():
        assert records.get_bytes(key) == data
    base = settings.learner_dir("old-timer")
    for old in LEGACY_FILES.values():  # the old files are kept aside, never deleted
        assert (base / f"{old}.migrated").read_bytes() in contents.values()
        assert not (base / old).exists()
    assert not [p for p in base.rglob(".*migrating*")]
    assert (base / MIGRATED_MARKER).is_file()  # later calls skip the search
    records.reset_chapter("ch02_fundamentals")  # a reset stays a reset: the old file does not come back
    assert records_for(settings, "old-timer").get_json("ch02_fundamentals/answers.json") is None


def test_newer_work_wins_over_an_old_file_found_later() -> None:
    settings = get_settings()
    records = records_for(settings, "ana")
    records.put_json("ch07_web_apps_api/api_lab.json", {"new": True})
    (settings.learner_dir("ana") / "api_lab.json").write_text('{"old": true}')
    assert records_for(settings, "ana").get_json("ch07_web_apps_api/api_lab.json") == {"new": True}
    assert (settings.learner_dir("ana") / "api_lab.json.migrated").read_text() == '{"old": true}'


def test_an_old_file_claimed_by_another_session_is_left_to_it(monkeypatch) -> None:
    settings = get_settings()
    old = settings.learner_dir("ana") / "api_lab.json"
    old.parent.mkdir(parents=True)
    old.write_text('{"old": true}')
    real_rename = os.rename

    def racing_rename(src, dst):  # the other session renamed it a moment before
        if str(src) == str(old):
            raise FileNotFoundError(src)
        return real_rename(src, dst)

    monkeypatch.setattr("pathlib.Path.rename", lambda self, target: racing_rename(self, target))
    assert records_for(settings, "ana").get_json("ch07_web_apps_api/api_lab.json") is None
    assert old.read_text() == '{"old": true}'
    assert not (old.parent / MIGRATED_MARKER).exists()  # still to be moved: the next call looks again


def test_learner_records_work_on_any_record_storage() -> None:
    class MemoryStorage:
        def __init__(self) -> None:
            self.data: dict[tuple[str, str], bytes] = {}

        def read(self, learner, key):
            return self.data.get((learner, key))

        def write(self, learner, key, data):
            self.data[(learner, key)] = data

        def delete(self, learner, key):
            return self.data.pop((learner, key), None) is not None

        def keys(self, learner, prefix=""):
            return sorted(k for (who, k) in self.data if who == learner and k.startswith(prefix))

        def delete_prefix(self, learner, prefix):
            gone = self.keys(learner, prefix)
            for key in gone:
                del self.data[(learner, key)]
            return len(gone)

    records = LearnerRecords(get_settings(), "ana", MemoryStorage())
    records.update_json("ch02_fundamentals/answers.json", {"q": 1})
    records.put_text("ch06_docker/Dockerfile", "FROM x")
    assert records.reset_chapter("02_fundamentals") == 1
    assert records.keys() == ["ch06_docker/Dockerfile"]


def test_a_chapter_finds_what_an_older_version_saved_for_the_learner() -> None:
    from workbench.chapters.ch02_fundamentals import lab as fundamentals
    from workbench.chapters.ch09_kubernetes import lab as k8s

    settings = get_settings()
    base = settings.learner_dir("old-timer")
    (base / "fundamentals").mkdir(parents=True)
    (base / "fundamentals" / "answers.json").write_text('{"approval_rate_Urban": 65.8}')
    (base / "k8s").mkdir()
    (base / "k8s" / "manifest.yaml").write_text("kind: Deployment\n")
    assert fundamentals.load_answers(settings, "old-timer") == {"approval_rate_Urban": 65.8}
    assert k8s.load_manifest(settings, "old-timer") == "kind: Deployment\n"
    fundamentals.save_answer(settings, "old-timer", "approval_rate_Rural", 61.0)
    assert fundamentals.load_answers(settings, "old-timer") == {
        "approval_rate_Urban": 65.8,
        "approval_rate_Rural": 61.0,
    }
