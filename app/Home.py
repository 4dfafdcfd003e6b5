"""MLOps Workbench — entrypoint: page config, sidebar (language, learner), navigation."""

from pathlib import Path

import streamlit as st
from workbench.ui.context import t
from workbench.ui.navigation import build_pages, run_page
from workbench.ui.sidebar import init_session, render_sidebar
from workbench.ui.widgets import streamlit_texts

# The tab icon is a file the app serves: a `:material/…:` icon would be fetched from fonts.gstatic.com.
FAVICON = Path(__file__).with_name("favicon.png")
st.set_page_config(page_title="MLOps Workbench", page_icon=str(FAVICON), layout="wide")
init_session()
page = st.navigation(build_pages())
st.set_page_config(page_title=f"{page.title} · {t('home.title')}")  # the browser tab, in the learner's language
streamlit_texts()
render_sidebar()
run_page(page)
