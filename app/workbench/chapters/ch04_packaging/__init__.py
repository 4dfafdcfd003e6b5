"""Chapter 4: Packaging a model: serialization, a Python package, environments."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=4,
    slug="packaging",
    section="build",
    icon=":material/inventory_2:",
    tabs=(
        Tab("packaging.tab_serialization", "serialization_tab"),
        Tab("packaging.tab_package", "package_tab"),
        Tab("packaging.tab_environment", "environment_tab"),
    ),
    checks=(
        "workbench.chapters.ch04_packaging.lab:check_package_built",
        "workbench.chapters.ch04_packaging.lab:check_compression_ratio",
    ),
)
