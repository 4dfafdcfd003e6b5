"""Split one big module into a package of modules by concern, with `git mv` so history follows the largest part.

Usage (from the repository root): python tools/relayout/split.py PLAN.json
PLAN: {"source": "app/.../security.py", "package": "app/.../security",
       "parts": [{"name": "victim", "doc": "...", "lines": [[1, 302]]}, ...]}
Line ranges are 1-based, inclusive. The first part keeps the header (docstring, constants, helpers); every part
gets the source's imports, then ruff drops the unused ones; names a part uses and a sibling defines are imported
from that sibling. The package's `__init__` re-exports the public names (and the private ones used elsewhere),
so `security.white_box_evasion` keeps working for callers.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT / "app").with_suffix("")
    return ".".join(rel.parts)


def top_names(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def undefined(path: Path) -> set[str]:
    out = subprocess.run(
        ["ruff", "check", "--select", "F821", "--output-format", "json", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return {re.search(r"`([^`]+)`", item["message"]).group(1) for item in json.loads(out or "[]")}


def main(plan_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    source = ROOT / plan["source"]
    package = ROOT / plan["package"]
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    import_lines: set[int] = set()
    imports: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            span = range(node.lineno, node.end_lineno + 1)
            import_lines.update(span)
            imports.append("".join(lines[i - 1] for i in span))
    doc_node = (
        tree.body[0] if isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) else None
    )
    doc_lines = set(range(doc_node.lineno, doc_node.end_lineno + 1)) if doc_node else set()
    original_doc = ast.get_docstring(tree) or ""
    pkg_mod = module_name(package)
    # the largest part inherits the file's history
    largest = max(plan["parts"], key=lambda p: sum(b - a + 1 for a, b in p["lines"]))["name"]
    package.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "mv", str(source), str(package / f"{largest}.py")], cwd=ROOT, check=True)
    future = [i for i in imports if i.startswith("from __future__")]
    others = [i for i in imports if not i.startswith("from __future__")]
    defined: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for part in plan["parts"]:
        body = []
        for start, end in part["lines"]:
            for number in range(start, end + 1):
                if number in import_lines or number in doc_lines:
                    continue
                body.append(lines[number - 1])
        code = "".join(body).strip("\n") + "\n"
        head = f'"""{part["doc"]}"""\n\n' + "".join(future) + "\n" + "".join(others) + "\n\n"
        path = package / f"{part['name']}.py"
        path.write_text(head + code, encoding="utf-8")
        paths[part["name"]] = path
        for name in top_names(ast.parse(path.read_text())):
            defined.setdefault(name, part["name"])
    for _ in range(3):
        for name, path in paths.items():
            subprocess.run(["ruff", "check", "-q", "--select", "F401,I", "--fix", str(path)], cwd=ROOT)
            missing = undefined(path)
            if not missing:
                continue
            by_part: dict[str, list[str]] = {}
            for symbol in sorted(missing):
                if symbol in defined and defined[symbol] != name:
                    by_part.setdefault(defined[symbol], []).append(symbol)
            if not by_part:
                continue
            src = path.read_text()
            extra = "".join(f"from {pkg_mod}.{p} import {', '.join(s)}\n" for p, s in sorted(by_part.items()))
            # after the last top-level import
            t = ast.parse(src)
            last = max(n.end_lineno for n in t.body if isinstance(n, (ast.Import, ast.ImportFrom)))
            src_lines = src.splitlines(keepends=True)
            src_lines.insert(last, extra)
            path.write_text("".join(src_lines))
    # re-exports
    outside = f":!{package.relative_to(ROOT)}"
    repo_text = subprocess.run(
        ["git", "grep", "-h", "-o", r"\b_[A-Za-z0-9_]*\b", "--", "app", "tests", "benchmarks", "pages", outside],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    used_private = set(repo_text.split())
    exports: dict[str, list[str]] = {}
    for name, part in defined.items():
        if not name.startswith("_") or name in used_private:
            exports.setdefault(part, []).append(name)
    init = [f'"""{original_doc}\n\nSplit by concern: {", ".join(p["name"] for p in plan["parts"])}."""\n\n']
    for part in plan["parts"]:
        names = sorted(exports.get(part["name"], []))
        if names:
            init.append(f"from {pkg_mod}.{part['name']} import " + ", ".join(f"{n} as {n}" for n in names) + "\n")
    (package / "__init__.py").write_text("".join(init), encoding="utf-8")
    subprocess.run(["git", "add", str(package)], cwd=ROOT, check=True)
    print(f"{source.relative_to(ROOT)} -> {package.relative_to(ROOT)}/ ({', '.join(paths)})")


if __name__ == "__main__":
    main(sys.argv[1])
