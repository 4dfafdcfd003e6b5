"""Atomic JSON files of the learners' work."""

from __future__ import annotations

import pytest
from workbench.core.learner_files import read_json, update_json, write_json


def test_round_trip_and_defaults(tmp_path) -> None:
    path = tmp_path / "a" / "b.json"
    assert read_json(path, {"x": 1}) == {"x": 1}
    write_json(path, {"é": [1, 2]})
    assert read_json(path) == {"é": [1, 2]}
    path.write_text("{broken")
    assert read_json(path, []) == []


def test_update_merges_and_replaces_non_objects(tmp_path) -> None:
    path = tmp_path / "answers.json"
    assert update_json(path, {"a": 1}) == {"a": 1}
    assert update_json(path, {"b": 2}) == {"a": 1, "b": 2}
    write_json(path, [1, 2])
    assert update_json(path, {"c": 3}) == {"c": 3}


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path) -> None:
    path = tmp_path / "answers.json"
    write_json(path, {"ok": True})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object.__new__(type("X", (), {"__str__": None}))})
    assert read_json(path) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["answers.json"]


def test_work_in_a_folder_of_the_old_naming_is_adopted_by_every_name_that_used_it() -> None:
    from workbench.core.learner_files import adopt_legacy_folder
    from workbench.core.settings import get_settings

    settings = get_settings()
    old = settings.legacy_learner_dir("bob!")
    assert old == settings.legacy_learner_dir("bob?")  # the old mapping: one folder for both
    write_json(old / "fundamentals" / "answers.json", {"q1": 42})
    (old / "git-sandbox").mkdir()
    (old / "git-sandbox" / "link").symlink_to("../fundamentals")

    for name in ("bob!", "bob?"):
        new = adopt_legacy_folder(settings, name)
        assert new == settings.learner_dir(name) != old
        assert read_json(new / "fundamentals" / "answers.json") == {"q1": 42}
        assert (new / "git-sandbox" / "link").is_symlink()
    assert read_json(old / "fundamentals" / "answers.json") == {"q1": 42}  # left in place
    assert not [p for p in old.parent.iterdir() if p.name.startswith(".")]  # no staging folder left

    write_json(settings.learner_dir("bob!") / "fundamentals" / "answers.json", {"q1": 7})
    assert adopt_legacy_folder(settings, "bob!") is None  # once: later work is never overwritten
    assert read_json(settings.learner_dir("bob!") / "fundamentals" / "answers.json") == {"q1": 7}
    assert adopt_legacy_folder(settings, "never-seen") is None
    assert not settings.learner_dir("never-seen").exists()
