"""Delete `` markers so `ruff format` can do its work (then run `ruff format .`).

Usage: python tools/relayout/unskip.py FILE...   Keeps the markers whose line also says `# table` (genuine tables).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MARKER = re.compile(r"\s*\b")

for arg in sys.argv[1:]:
    path = Path(arg)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        if "# fmt: skip" in line and "# table" not in line:
            end = "\n" if line.endswith("\n") else ""
            line = MARKER.sub("", line.rstrip("\n")).rstrip() + end
        out.append(line)
    text = "".join(out)
    if text != path.read_text(encoding="utf-8"):
        path.write_text(text, encoding="utf-8")
