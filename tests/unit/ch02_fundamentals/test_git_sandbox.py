"""Chapter II git sandbox: real git, isolated from the project's repository and the global config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from workbench.chapters.ch02_fundamentals import git_sandbox as gs
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

LEARNER = "Ana Lima"


@pytest.fixture
def repo() -> Path:
    return gs.sandbox_dir(get_settings(), LEARNER)


def _commit(repo: Path, name: str, content: str, message: str) -> gs.GitResult:
    gs.write_file(repo, name, content)
    gs.add(repo, name)
    return gs.commit(repo, message)


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext(LEARNER, lang, get_settings())


def test_sandbox_lives_in_the_learner_dir(repo) -> None:
    assert repo == get_settings().learner_dir(LEARNER) / "git-sandbox"
    assert not repo.exists()  # nothing is created before init


def test_init_uses_main_and_a_local_author_only(repo, tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Global Person\n[init]\n\tdefaultBranch = trunk\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # a stray variable must not redirect git
    results = gs.init_sandbox(repo, LEARNER)
    assert [r.command for r in results] == [
        "git -c init.defaultBranch=main init",
        "git config user.name 'Ana Lima'",
        "git config user.email ana_lima@workbench.local",
    ]
    assert results[0].ok and "Initialized empty Git repository" in results[0].output
    assert "name = Ana Lima" in (repo / ".git" / "config").read_text()
    commit = _commit(repo, "train.py", "print(1)", "First model")
    assert commit.ok and "[main (root-commit)" in commit.output
    author = gs.run_git(repo, "log", "-1", "--format=%an <%ae>").output
    assert author == "Ana Lima <ana_lima@workbench.local>"
    assert (home / ".gitconfig").read_text().count("Global Person") == 1  # untouched
    assert not (tmp_path / "elsewhere").exists()


def test_sandbox_never_touches_an_enclosing_repository(tmp_path) -> None:
    outer = tmp_path / "project"
    outer.mkdir()
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    repo = outer / ".workbench" / "learners" / "ana" / "git-sandbox"
    with pytest.raises(gs.GitSandboxError) as info:
        gs.add(repo, ".")  # before init: refused, instead of staging into the outer repository
    assert info.value.key == "error_not_initialised"
    gs.init_sandbox(repo, "ana")
    _commit(repo, "a.txt", "hello", "first")
    outer_status = subprocess.run(["git", "-C", str(outer), "status", "--porcelain"], capture_output=True, text=True)
    outer_log = subprocess.run(["git", "-C", str(outer), "log", "--oneline"], capture_output=True, text=True)
    assert outer_log.returncode != 0  # the outer repository still has no commit
    assert outer_status.stdout.strip() == "?? .workbench/"


def test_branch_switch_merge_and_history_graph(repo) -> None:
    gs.init_sandbox(repo, LEARNER)
    _commit(repo, "train.py", "v1", "First model")
    assert gs.branch(repo, "feature").command == "git branch feature"
    assert gs.current_branch(repo) == "main"
    switched = gs.switch(repo, "feature")
    assert switched.ok and "Switched to branch 'feature'" in switched.output
    _commit(repo, "train.py", "v2", "Log of income")
    gs.switch(repo, "main")
    _commit(repo, "README.md", "loans", "Readme")
    merged = gs.merge(repo, "feature", no_ff=True)
    assert merged.ok and merged.command == "git merge --no-ff feature"
    assert "Merge made by" in merged.output
    assert "Merge branch 'feature'" in gs.log(repo).output

    commits = gs.history(repo)
    assert [c.subject for c in commits][0] == "First model" and len(commits) == 4
    merge_commit = commits[-1]
    assert len(merge_commit.parents) == 2 and "HEAD -> main" in merge_commit.refs
    tips = gs.branch_tips(repo)
    assert set(tips) == {"main", "feature"} and gs.branches(repo) == ["main", "feature"]
    lanes = gs.assign_lanes(commits, tips)
    assert lanes[tips["main"]] == 0 and lanes[tips["feature"]] == 1 and lanes[commits[0].sha] == 0
    fig = gs.history_figure(commits, tips, "main", "en")
    assert len(fig.data[1].x) == 4 and list(fig.data[1].text) == [c.short for c in commits]
    labels = " ".join(a.text for a in fig.layout.annotations)
    assert "<b>main</b> ← HEAD" in labels and "<b>feature</b>" in labels
    assert fig.layout.title.text == "History: 4 commits, oldest on the left"


def test_switch_create_and_fast_forward_merge(repo) -> None:
    gs.init_sandbox(repo, LEARNER)
    _commit(repo, "a.txt", "1", "one")
    assert gs.switch(repo, "fix", create=True).command == "git switch -c fix"
    _commit(repo, "a.txt", "2", "two")
    gs.switch(repo, "main")
    merged = gs.merge(repo, "fix")
    assert merged.ok and "Fast-forward" in merged.output
    assert gs.branch_tips(repo)["main"] == gs.branch_tips(repo)["fix"]


def test_conflict_then_abort(repo) -> None:
    gs.init_sandbox(repo, LEARNER)
    _commit(repo, "a.txt", "base", "base")
    gs.switch(repo, "other", create=True)
    _commit(repo, "a.txt", "theirs", "theirs")
    gs.switch(repo, "main")
    _commit(repo, "a.txt", "ours", "ours")
    conflict = gs.merge(repo, "other")
    assert not conflict.ok and "CONFLICT" in conflict.output
    assert gs.merge_in_progress(repo)
    assert gs.merge_abort(repo).ok and not gs.merge_in_progress(repo)


def test_add_shows_the_status(repo) -> None:
    gs.init_sandbox(repo, LEARNER)
    written = gs.write_file(repo, "notes.md", "hello")
    assert written.command == "cat > notes.md <<'EOF'\nhello\nEOF" and "created notes.md (6 bytes)" == written.output
    added = gs.add(repo)
    assert added.command == "git add . && git status --short" and added.output == "A  notes.md"
    assert gs.files(repo) == ["notes.md"]


@pytest.mark.parametrize(
    "call, key",
    [
        (lambda r: gs.write_file(r, "../escape.txt", "x"), "error_file_name"),
        (lambda r: gs.write_file(r, ".git", "x"), "error_file_name"),
        (lambda r: gs.write_file(r, "sub/dir.txt", "x"), "error_file_name"),
        (lambda r: gs.write_file(r, "big.txt", "x" * 30_000), "error_file_too_big"),
        (lambda r: gs.commit(r, "   "), "error_empty_message"),
        (lambda r: gs.branch(r, "two words"), "error_branch_name"),
        (lambda r: gs.branch(r, "-D"), "error_branch_name"),
        (lambda r: gs.switch(r, "a..b"), "error_branch_name"),
    ],
)
def test_bad_input_is_refused_with_a_translated_message(repo, call, key) -> None:
    gs.init_sandbox(repo, LEARNER)
    with pytest.raises(gs.GitSandboxError) as info:
        call(repo)
    assert info.value.key == key and not info.value.message("fr").startswith("git.")
    assert not (repo.parent / "escape.txt").exists()


def test_commands_before_init_are_refused(repo) -> None:
    for call in (lambda: gs.write_file(repo, "a.txt", "x"), lambda: gs.log(repo), lambda: gs.commit(repo, "m")):
        with pytest.raises(gs.GitSandboxError, match="git init"):
            call()
    assert gs.history(repo) == [] and gs.branches(repo) == [] and gs.current_branch(repo) is None


def test_parse_log() -> None:
    sep = gs.FIELD
    text = (
        f"aaa{sep}{sep}{sep}Ana{sep}100{sep}first\n"
        f"bbb{sep}aaa ccc{sep}HEAD -> main, tag: v1{sep}Ana{sep}200{sep}Merge 'x'\n"
        "garbage line\n"
    )
    first, merge = gs.parse_log(text)
    assert first.parents == () and first.refs == () and first.timestamp == 100
    assert (
        merge.parents == ("aaa", "ccc") and merge.refs == ("HEAD -> main", "tag: v1") and merge.subject == "Merge 'x'"
    )


def test_reset_deletes_only_the_sandbox(repo) -> None:
    gs.init_sandbox(repo, LEARNER)
    keep = repo.parent / "keep.txt"
    keep.write_text("mine")
    assert gs.reset_sandbox(get_settings(), LEARNER) is True
    assert not repo.exists() and keep.read_text() == "mine"
    assert gs.reset_sandbox(get_settings(), LEARNER) is False


def test_check_branch_merged_step_by_step(repo) -> None:
    result = gs.check_branch_merged(_ctx("fr"))
    assert not result.passed and "git init" in result.missing[0]
    gs.init_sandbox(repo, LEARNER)
    assert "no commit yet" in gs.check_branch_merged(_ctx()).missing[0]
    _commit(repo, "a.txt", "1", "one")
    gs.branch(repo, "empty-branch")  # a branch without its own commit does not count
    assert "No commit made on a branch" in gs.check_branch_merged(_ctx()).missing[0]
    gs.switch(repo, "feature", create=True)
    _commit(repo, "a.txt", "2", "two")
    gs.switch(repo, "main")
    gs.merge(repo, "main")  # merging main into itself changes nothing
    result = gs.check_branch_merged(_ctx())
    assert not result.passed and "feature" in result.missing[0]
    gs.merge(repo, "feature")
    result = gs.check_branch_merged(_ctx())
    assert result.passed and result.evidence["branch"] == "feature"
    assert "1 commit made on branch feature" in result.detail


def test_check_accepts_a_merge_commit(repo) -> None:
    gs.init_sandbox(repo, LEARNER)
    _commit(repo, "a.txt", "1", "one")
    gs.switch(repo, "feature", create=True)
    _commit(repo, "b.txt", "2", "two")
    _commit(repo, "b.txt", "3", "three")
    gs.switch(repo, "main")
    gs.merge(repo, "feature", no_ff=True)
    result = gs.check_branch_merged(_ctx("fr"))
    assert result.passed and "2 commits faits" in result.detail and "1 commit(s) de fusion" in result.detail
