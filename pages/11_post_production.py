"""Chapter XI — Post-production: model security (attacks and defenses), A/B tests, bandits, business value."""

from workbench.ui.chapter_page import render_chapter

render_chapter("11_post_production")
