"""Chapter II: a real git repository per learner, driven by buttons, and its history as a graph.

The sandbox is the learner's `git-sandbox` workspace (see `LearnerRecords.workspace`). Every command runs the
real `git` with `GIT_DIR` and `GIT_WORK_TREE` pointing into the sandbox and `GIT_CEILING_DIRECTORIES` set
above it, so it can never reach the project's own repository (the default state dir is inside it);
the system and global git configurations are ignored (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL`), and
the author name and e-mail are set in the sandbox's own `.git/config`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import LocalizedError, translate
from workbench.core.records import records_for
from workbench.core.settings import Settings, safe_name

SANDBOX = "git-sandbox"
MAIN = "main"
FIELD = "\x1f"  # unit separator between the fields of `git log --format`
LOG_FORMAT = FIELD.join(["%H", "%P", "%D", "%an", "%at", "%s"])
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_FILE_BYTES = 20_000
TIMEOUT = 20


#: What a hosting platform adds: CI that runs the tests on every push (chapter VIII goes further).
GITHUB_WORKFLOW = """# .github/workflows/tests.yml
name: tests
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v6
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt
      - run: pytest
"""
GITLAB_CI = """# .gitlab-ci.yml
stages: [test]

test:
  stage: test
  image: python:3.12
  script:
    - pip install -r requirements.txt
    - pytest --junitxml=report.xml
  artifacts:
    reports:
      junit: report.xml
"""


class GitSandboxError(LocalizedError, ValueError):
    """An action the sandbox refuses; `message(lang)` explains why in the learner's language."""

    namespace = "git"


@dataclass(frozen=True)
class GitResult:
    """One command as the learner would type it, and what it really printed."""

    command: str
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """True when the command exited with 0."""
        return self.returncode == 0


def sandbox_dir(settings: Settings, learner: str) -> Path:
    """The learner's sandbox folder (not created here)."""
    return records_for(settings, learner).workspace(SANDBOX)


def is_initialised(repo: Path) -> bool:
    """True when `git init` has been run in the sandbox."""
    return (repo / ".git" / "HEAD").is_file()


def _env(repo: Path, initialised: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    if initialised:  # pin the repository: git never looks further
        env.update(GIT_DIR=str(repo / ".git"), GIT_WORK_TREE=str(repo))
    env.update(
        GIT_CEILING_DIRECTORIES=str(repo.parent),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_EDITOR="true",
        GIT_PAGER="cat",
        LC_ALL="C",
        LANG="C",
    )
    return env


def run_git(repo: Path, *args: str, shown: str | None = None, init: bool = False) -> GitResult:
    """Run `git <args>` in the sandbox `repo` and capture its output (stdout and stderr, in order).

    Args:
        repo: the sandbox folder.
        args: the git arguments.
        shown: the command as displayed to the learner (default: `git` + args, shell-quoted).
        init: this is the `git init` (the only command allowed before the repository exists).

    Raises:
        GitSandboxError: the repository is not initialised, or git is missing.
    """
    if not init and not is_initialised(repo):
        raise GitSandboxError("error_not_initialised")
    if shutil.which("git") is None:
        raise GitSandboxError("error_no_git")
    repo.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=_env(repo, initialised=not init),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return GitResult(shown or shlex.join(["git", *args]), proc.returncode, proc.stdout.rstrip())


def init_sandbox(repo: Path, learner: str) -> list[GitResult]:
    """`git init` with `main` as the first branch, then the author set in the sandbox's own config."""
    results = [run_git(repo, "-c", f"init.defaultBranch={MAIN}", "init", init=True)]
    email = f"{safe_name(learner).lower()}@workbench.local"
    results.append(run_git(repo, "config", "user.name", learner))
    results.append(run_git(repo, "config", "user.email", email))
    run_git(repo, "config", "commit.gpgsign", "false")
    return results


def _check_file_name(name: str) -> str:
    name = name.strip()
    if not FILE_NAME.match(name) or name in (".git", ".", ".."):
        raise GitSandboxError("error_file_name", name=name)
    return name


def write_file(repo: Path, name: str, content: str) -> GitResult:
    """Write (or overwrite) a text file at the root of the sandbox; shown as the shell command doing it.

    Raises:
        GitSandboxError: not initialised, a name that is not a plain file name, or content too long.
    """
    if not is_initialised(repo):
        raise GitSandboxError("error_not_initialised")
    name = _check_file_name(name)
    data = content if content.endswith("\n") or not content else content + "\n"
    if len(data.encode("utf-8")) > MAX_FILE_BYTES:
        raise GitSandboxError("error_file_too_big", max=MAX_FILE_BYTES)
    existed = (repo / name).exists()
    (repo / name).write_text(data, encoding="utf-8")
    command = f"cat > {shlex.quote(name)} <<'EOF'\n{data}EOF"
    size = len(data.encode("utf-8"))
    return GitResult(command, 0, f"{'overwrote' if existed else 'created'} {name} ({size} bytes)")


def add(repo: Path, name: str = ".") -> GitResult:
    """`git add <name>` (`.` stages everything), followed by a short status so the effect is visible."""
    target = "." if name.strip() in ("", ".") else _check_file_name(name)
    result = run_git(repo, "add", target)
    status = run_git(repo, "status", "--short")
    return GitResult(
        result.command + " && git status --short",
        result.returncode,
        "\n".join(part for part in (result.output, status.output) if part),
    )


def commit(repo: Path, message: str) -> GitResult:
    """`git commit -m <message>`.

    Raises:
        GitSandboxError: an empty message.
    """
    message = " ".join(message.split())
    if not message:
        raise GitSandboxError("error_empty_message")
    return run_git(repo, "commit", "-m", message[:200])


def _check_branch(repo: Path, name: str) -> str:
    name = name.strip()
    valid = name and run_git(repo, "check-ref-format", "--branch", name).ok and not name.startswith("-")
    if not valid:
        raise GitSandboxError("error_branch_name", name=name)
    return name


def branch(repo: Path, name: str) -> GitResult:
    """`git branch <name>`: a new branch at the current commit (HEAD does not move)."""
    return run_git(repo, "branch", _check_branch(repo, name))


def switch(repo: Path, name: str, create: bool = False) -> GitResult:
    """`git switch <name>` (or `git switch -c <name>` to create it at the same time)."""
    name = _check_branch(repo, name)
    return run_git(repo, "switch", "-c", name) if create else run_git(repo, "switch", name)


def merge(repo: Path, name: str, no_ff: bool = False) -> GitResult:
    """`git merge <name>` into the current branch (`--no-ff` always creates a merge commit)."""
    name = _check_branch(repo, name)
    args = ["merge", "--no-edit", *(["--no-ff"] if no_ff else []), name]
    return run_git(repo, *args, shown=shlex.join(["git", "merge", *(["--no-ff"] if no_ff else []), name]))


def merge_in_progress(repo: Path) -> bool:
    """True when a merge stopped on a conflict and waits to be concluded or aborted."""
    return (repo / ".git" / "MERGE_HEAD").is_file()


def merge_abort(repo: Path) -> GitResult:
    """`git merge --abort`: give up a merge that stopped on a conflict."""
    return run_git(repo, "merge", "--abort")


def log(repo: Path) -> GitResult:
    """`git log --oneline --graph --all --decorate`: the history as git draws it."""
    return run_git(repo, "log", "--oneline", "--graph", "--all", "--decorate")


def status(repo: Path) -> GitResult:
    """`git status`."""
    return run_git(repo, "status")


def branches(repo: Path) -> list[str]:
    """The local branches, `main` first."""
    if not is_initialised(repo):
        return []
    out = run_git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").output
    names = [n for n in out.splitlines() if n]
    return sorted(names, key=lambda n: (n != MAIN, n))


def current_branch(repo: Path) -> str | None:
    """The branch HEAD is on (None when detached or not initialised)."""
    if not is_initialised(repo):
        return None
    name = run_git(repo, "branch", "--show-current").output.strip()
    return name or None


def files(repo: Path) -> list[str]:
    """The files of the sandbox's working tree (not .git)."""
    if not repo.is_dir():
        return []
    return sorted(p.name for p in repo.iterdir() if p.is_file())


def reset_sandbox(settings: Settings, learner: str) -> bool:
    """Delete the learner's sandbox (and only it). Returns True when something was deleted."""
    repo = sandbox_dir(settings, learner).resolve()
    if repo.parent != settings.learner_dir(learner).resolve() or repo.name != SANDBOX:
        raise GitSandboxError("error_not_sandbox")
    if not repo.exists():
        return False
    shutil.rmtree(repo)
    return True


# --------------------------------------------------------------------------------------------
# History: parsed from `git log --all --format=...`, drawn with plotly
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    """One commit of the history."""

    sha: str
    parents: tuple[str, ...]
    refs: tuple[str, ...]  # e.g. ("HEAD -> main", "feature")
    author: str
    timestamp: int
    subject: str

    @property
    def short(self) -> str:
        """The abbreviated hash."""
        return self.sha[:7]


def parse_log(text: str) -> list[Commit]:
    """Commits from the output of `git log --format=<LOG_FORMAT>` (newest first, as git prints them)."""
    commits = []
    for line in text.splitlines():
        fields = line.split(FIELD)
        if len(fields) != 6:
            continue
        sha, parents, refs, author, timestamp, subject = fields
        commits.append(
            Commit(
                sha=sha,
                parents=tuple(parents.split()),
                refs=tuple(r.strip() for r in refs.split(",") if r.strip()),
                author=author,
                timestamp=int(timestamp),
                subject=subject,
            )
        )
    return commits


def history(repo: Path) -> list[Commit]:
    """Every commit reachable from a branch, oldest first (empty before the first commit)."""
    if not is_initialised(repo):
        return []
    result = run_git(repo, "log", "--all", "--topo-order", "--reverse", f"--format={LOG_FORMAT}")
    return parse_log(result.output) if result.ok else []


def branch_tips(repo: Path) -> dict[str, str]:
    """Branch name → the commit it points to."""
    if not is_initialised(repo):
        return {}
    out = run_git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads").output
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def assign_lanes(commits: list[Commit], tips: dict[str, str]) -> dict[str, int]:
    """A row (lane) for each commit: `main`'s first-parent chain on lane 0, each other branch on its own.

    A commit belongs to the first branch (main first, then by name) whose first-parent chain reaches it.
    """
    by_sha = {c.sha: c for c in commits}
    lanes: dict[str, int] = {}
    order = sorted(tips, key=lambda n: (n != MAIN, n))
    lane = 0
    for name in order:
        sha, used = tips[name], False
        while sha in by_sha and sha not in lanes:
            lanes[sha] = lane
            used = True
            parents = by_sha[sha].parents
            sha = parents[0] if parents else ""
        lane += used
    for c in commits:  # commits no branch reaches by first parents (e.g. a deleted branch's)
        lanes.setdefault(c.sha, lane)
    return lanes


def history_figure(commits: list[Commit], tips: dict[str, str], head: str | None, lang: str) -> go.Figure:
    """The history as a graph: commits as nodes (oldest left), parent edges, branch labels at the tips."""
    lanes = assign_lanes(commits, tips)
    x = {c.sha: i for i, c in enumerate(commits)}
    fig = go.Figure()
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for c in commits:
        for parent in c.parents:
            if parent in x:
                edge_x += [x[parent], x[c.sha], None]
                edge_y += [lanes[parent], lanes[c.sha], None]
    fig.add_trace(
        go.Scatter(
            x=edge_x, y=edge_y, mode="lines", line={"color": "#adb5bd", "width": 3}, hoverinfo="skip", showlegend=False
        )
    )
    labels: dict[str, list[str]] = {}
    for name, sha in tips.items():
        labels.setdefault(sha, []).append(f"<b>{name}</b>" + (" ← HEAD" if name == head else ""))
    palette = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599"]
    fig.add_trace(
        go.Scatter(
            x=[x[c.sha] for c in commits],
            y=[lanes[c.sha] for c in commits],
            mode="markers+text",
            marker={
                "size": [22 if len(c.parents) > 1 else 18 for c in commits],
                "color": [palette[lanes[c.sha] % len(palette)] for c in commits],
                "symbol": ["diamond" if len(c.parents) > 1 else "circle" for c in commits],
                "line": {"width": 2, "color": "white"},
            },
            text=[c.short for c in commits],
            textposition="bottom center",
            customdata=[[c.subject, c.author, ", ".join(p[:7] for p in c.parents) or "—"] for c in commits],
            hovertemplate=translate("git.graph_hover", lang) + "<extra></extra>",
            showlegend=False,
        )
    )
    for sha, names in labels.items():
        if sha in x:
            fig.add_annotation(
                x=x[sha],
                y=lanes[sha],
                text="<br>".join(names),
                showarrow=True,
                arrowhead=0,
                ax=0,
                ay=-38,
                bgcolor="#f1f3f5",
                bordercolor="#868e96",
                font={"size": 12},
            )
    n_lanes = max(lanes.values(), default=0) + 1
    fig.update_layout(
        title=translate("git.graph_title", lang, n=len(commits)),
        height=200 + 70 * n_lanes,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"visible": False, "range": [-0.7, max(len(commits) - 0.3, 1)]},
        yaxis={"visible": False, "range": [n_lanes - 0.4, -0.9]},
        plot_bgcolor="white",
    )
    return fig


# --------------------------------------------------------------------------------------------
# The hands-on check
# --------------------------------------------------------------------------------------------


def commits_made_on_branches(repo: Path) -> dict[str, list[str]]:
    """Branch (other than main) → commits made while on it, read from the branch's reflog."""
    made: dict[str, list[str]] = {}
    for name in branches(repo):
        if name == MAIN:
            continue
        out = run_git(repo, "reflog", "show", "--format=%H%x1f%gs", f"refs/heads/{name}").output
        made[name] = [
            line.split(FIELD)[0]
            for line in out.splitlines()
            if FIELD in line and line.split(FIELD)[1].startswith("commit")
        ]
    return made


def is_ancestor(repo: Path, commit_sha: str, ref: str) -> bool:
    """True when `commit_sha` is in the history of `ref`."""
    return run_git(repo, "merge-base", "--is-ancestor", commit_sha, ref).returncode == 0


def check_branch_merged(ctx: CheckContext) -> CheckResult:
    """Passed when a commit made on a branch other than main is now part of main's history."""
    repo = sandbox_dir(ctx.settings, ctx.learner)

    def missing(key: str, **values: object) -> CheckResult:
        return failed(translate(f"git.{key}", ctx.lang, **values), evidence=values)

    if not is_initialised(repo):
        return missing("check_no_repo")
    tips = branch_tips(repo)
    if MAIN not in tips:
        return missing("check_no_main")
    made = commits_made_on_branches(repo)
    if not any(made.values()):
        return missing("check_no_branch_commit")
    for name, shas in made.items():
        merged = [s for s in shas if is_ancestor(repo, s, MAIN)]
        if merged:
            merges = [c for c in history(repo) if len(c.parents) > 1 and is_ancestor(repo, c.sha, MAIN)]
            detail = translate("git.check_merged", ctx.lang, branch=name, n=len(merged), merges=len(merges))
            return passed(detail, evidence={"branch": name, "commits": [s[:7] for s in merged]})
    return missing("check_not_merged", branches=", ".join(n for n, s in made.items() if s))
