"""Chapter 3: Deployment challenges: lifecycle, serving, robustness, feedback loops."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=3,
    slug="deployment_challenges",
    section="foundations",
    icon=":material/warning:",
    tabs=(
        Tab("challenges.tab_lifecycle", "lifecycle_tab"),
        Tab("challenges.tab_serving", "serving_tab"),
        Tab("challenges.tab_robustness", "robustness_tab"),
        Tab("challenges.tab_feedback", "feedback_tab"),
    ),
    checks=(
        "workbench.chapters.ch03_deployment_challenges.lab:check_retrain_threshold",
        "workbench.chapters.ch03_deployment_challenges.lab:check_silent_failure",
    ),
)
