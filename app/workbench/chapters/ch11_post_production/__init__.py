"""Chapter 11: Post-production: model security, A/B tests, bandits, business value, responsible AI."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=11,
    slug="post_production",
    section="operate",
    icon=":material/shield:",
    tabs=(
        Tab("security.tab", "security.security_tab"),
        Tab("experiments.tab_ab", "ab_tests.ab_tab"),
        Tab("experiments.tab_bandits", "ab_tests.bandits_tab"),
        Tab("experiments.tab_business", "ab_tests.business_tab"),
        Tab("responsible.tab", "responsible.responsible_tab"),
    ),
    checks=(
        "workbench.chapters.ch11_post_production.security:check_flip_decision",
        "workbench.chapters.ch11_post_production.security:check_poison_defense",
        "workbench.chapters.ch11_post_production.security:check_membership_defense",
        "workbench.chapters.ch11_post_production.ab_tests:check_sample_size",
        "workbench.chapters.ch11_post_production.ab_tests:check_lowest_regret",
        "workbench.chapters.ch11_post_production.ab_tests:check_epsilon_vs_ucb",
        "workbench.chapters.ch11_post_production.ab_tests:check_profit_threshold",
        "workbench.chapters.ch11_post_production.responsible:check_fairness_mitigation",
        "workbench.chapters.ch11_post_production.responsible:check_signed_model",
    ),
)
