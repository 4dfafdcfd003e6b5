"""Chapter 10: Monitoring and drift: detectors, Evidently, a timeline, the live API."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=10,
    slug="monitoring",
    section="operate",
    icon=":material/monitoring:",
    tabs=(
        Tab("drift.tab_lab", "drift_tab"),
        Tab("drift.tab_evidently", "evidently_tab"),
        Tab("drift.tab_timeline", "timeline_tab"),
        Tab("drift.tab_live", "live_tab"),
    ),
    checks=(
        "workbench.chapters.ch10_monitoring.drift:check_mystery_feature",
        "workbench.chapters.ch10_monitoring.drift:check_categorical_test",
        "workbench.chapters.ch10_monitoring.drift:check_alert_threshold",
        "workbench.chapters.ch10_monitoring.promql:check_promql_rate",
        "workbench.chapters.ch10_monitoring.strategy:check_retraining_strategy",
    ),
    prerequisites=("05_mlflow",),  # serves, gates or watches the model put at @production in chapter V
)
