"""Tables in the learner's number format: the cost of `workbench.ui.widgets.dataframe` (a pandas Styler whose
display values are written by `workbench.core.formatting`) against a plain `st.dataframe` of the same frame (the anchor).

The widest tables of the labs: batch predictions (up to 1,000 rows × 15 columns) and the MLflow runs table.
Both are sent in one script run of a real Streamlit script (AppTest), best of `--repeat` runs, then the ratio.

Usage: python benchmarks/tables.py [--rows 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse

from streamlit.testing.v1 import AppTest

SCRIPT = """
import time
import numpy as np
import pandas as pd
import streamlit as st
from workbench.ui.widgets import dataframe

rng = np.random.default_rng(0)
rows = st.session_state["rows"]
frame = pd.DataFrame({f"number_{i}": rng.random(rows) * 10_000 for i in range(5)}
                     | {f"text_{i}": ["Graduate"] * rows for i in range(10)})
times = {"plain": [], "localized": []}
for _ in range(st.session_state["repeat"]):
    start = time.perf_counter()
    st.dataframe(frame)
    times["plain"].append(time.perf_counter() - start)
    start = time.perf_counter()
    dataframe(frame)
    times["localized"].append(time.perf_counter() - start)
st.session_state["times"] = times
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    at = AppTest.from_string(SCRIPT, default_timeout=300)
    at.session_state["lang"] = "fr"
    at.session_state["rows"] = args.rows
    at.session_state["repeat"] = args.repeat
    at.run()
    times = at.session_state["times"]
    plain, localized = min(times["plain"]), min(times["localized"])
    print(f"{args.rows} rows × 15 columns, best of {args.repeat}")
    print(f"  st.dataframe (anchor)            {plain * 1000:8.1f} ms")
    print(f"  widgets.dataframe (French)       {localized * 1000:8.1f} ms")
    print(f"  ratio localized / plain          {localized / plain:8.2f} ×")


if __name__ == "__main__":
    main()
