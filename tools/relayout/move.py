"""Apply issue 14's move map with `git mv` (history follows), then rewrite every reference.

Usage: python tools/relayout/move.py   (from the repository root; idempotent: moves only what is still there)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from mapping import MODULES, STRINGS, TESTS  # noqa: E402
from rewrite import rewrite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "app" / "workbench"


def git_mv(old: Path, new: Path) -> None:
    if not old.exists() or new.exists():
        return
    new.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "mv", str(old), str(new)], cwd=ROOT, check=True)
    print(f"{old.relative_to(ROOT)} -> {new.relative_to(ROOT)}")


def ensure_init(folder: Path, doc: str) -> None:
    init = folder / "__init__.py"
    if not init.exists():
        init.parent.mkdir(parents=True, exist_ok=True)
        init.write_text(f'"""{doc}"""\n', encoding="utf-8")
        subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)


def main() -> None:
    for old, new in MODULES.items():
        git_mv(PKG / (old.replace(".", "/") + ".py"), PKG / (new.replace(".", "/") + ".py"))
    for ns, chapter in STRINGS.items():
        git_mv(PKG / "strings" / f"{ns}.yaml", PKG / "strings" / chapter / f"{ns}.yaml")
    for old, new in TESTS.items():
        git_mv(ROOT / "tests" / old, ROOT / "tests" / new)
    ensure_init(PKG / "core", "What every chapter shares: settings, data, models, tracking, services, progress, i18n.")
    ensure_init(PKG / "ui" / "chapters", "Each chapter's Streamlit tabs, one module (or package) per chapter.")
    for folder in sorted((PKG / "ui" / "chapters").glob("ch*/")):
        ensure_init(folder, f"Chapter {folder.name}'s Streamlit tabs.")
    for folder in sorted((ROOT / "tests" / "unit").glob("ch*/")):
        ensure_init(folder, "")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in files:
        path = ROOT / name
        if (
            name.startswith(("lessons/", "tools/relayout/"))
            or path.suffix not in {".py", ".toml", ".md", ".txt", ".cfg", ".yaml", ".yml", ""}
            or not path.is_file()
        ):
            continue
        if (
            name == "tools"
            or path.suffix == ""
            and name not in {"MLproject", "Jenkinsfile", "Dockerfile", "Dockerfile.api"}
        ):
            continue
        old = path.read_text(encoding="utf-8")
        new = rewrite(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {name}")


if __name__ == "__main__":
    main()
