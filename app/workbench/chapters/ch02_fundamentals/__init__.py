"""Chapter 2: Fundamental tools: pandas, NumPy, Python, git."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=2,
    slug="fundamentals",
    section="foundations",
    icon=":material/terminal:",
    tabs=(
        Tab("fundamentals.tab_pandas", "pandas_tab"),
        Tab("fundamentals.tab_numpy", "numpy_tab"),
        Tab("fundamentals.tab_python", "python_tab"),
        Tab("git.tab", "git_tab"),
    ),
    checks=(
        "workbench.chapters.ch02_fundamentals.lab:check_groupby_answer",
        "workbench.chapters.ch02_fundamentals.git_sandbox:check_branch_merged",
    ),
)
