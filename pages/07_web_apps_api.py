"""Chapter VII — Web apps and APIs: the local prediction API (FastAPI) and its Streamlit client."""

from workbench.ui.chapter_page import render_chapter

render_chapter("07_web_apps_api")
