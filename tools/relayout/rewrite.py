"""Rewrite references to moved modules (see mapping.py) in Python, YAML, TOML, Markdown and CI files.

Usage: python tools/relayout/rewrite.py FILE... (rewrites in place; prints the files it changed).
Handles `from workbench import a, b as c`, `from workbench.x import …`, `import workbench.x`, and dotted
strings (`"workbench.x.attr"` for monkeypatch, `python -m workbench.train`). Idempotent.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from mapping import MODULES  # noqa: E402

_FROM = re.compile(r"^(?P<indent>[ \t]*)from workbench import (?P<names>\([^)]*\)|[^\n#;\"\\]+)", re.MULTILINE)
_INLINE_FROM = re.compile(r"from workbench import (?P<names>[A-Za-z_][\w ,]*?)(?=;|\\n|\"|$)", re.MULTILINE)
_DOTTED = re.compile(r"(?<![\w/.])workbench\.(?P<path>ui\.[a-z_][a-z0-9_]*|[a-z_][a-z0-9_]*)(?![\w])")


def _target(name: str) -> tuple[str, str] | None:
    new = MODULES.get(name)
    if new is None:
        return None
    parent, _, leaf = new.rpartition(".")
    return f"workbench.{parent}" if parent else "workbench", leaf


def _split(names: str) -> list[tuple[str, str | None]]:
    out = []
    for part in names.strip("() \n").replace("\n", " ").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, alias = part.partition(" as ")
        out.append((name.strip(), alias.strip() or None))
    return out


def _imports(names: str) -> list[str]:
    lines: dict[str, list[str]] = {}
    for name, alias in _split(names):
        target = _target(name)
        module, leaf = target if target else ("workbench", name)
        local = alias or name
        lines.setdefault(module, []).append(leaf if leaf == local else f"{leaf} as {local}")
    return [f"from {module} import {', '.join(items)}" for module, items in lines.items()]


def rewrite(text: str) -> str:
    """The text with every reference to a moved module pointing at its new place."""

    def from_stmt(m: re.Match) -> str:
        return "\n".join(m["indent"] + line for line in _imports(m["names"]))

    def inline(m: re.Match) -> str:
        return "; ".join(_imports(m["names"]))

    def dotted(m: re.Match) -> str:
        path = m["path"]
        if path in MODULES:
            return f"workbench.{MODULES[path]}"
        head = path.split(".")[0]
        if head in MODULES and not path.startswith("ui."):
            return f"workbench.{MODULES[head]}{path[len(head) :]}"
        return m[0]

    text = _FROM.sub(from_stmt, text)
    text = _INLINE_FROM.sub(inline, text)
    return _DOTTED.sub(dotted, text)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        path = Path(arg)
        old = path.read_text(encoding="utf-8")
        new = rewrite(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(path)
