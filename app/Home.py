"""MLOps Workbench — entrypoint: page config, sidebar (language, learner), navigation."""

import streamlit as st
from workbench.ui.context import t
from workbench.ui.navigation import build_pages, run_page
from workbench.ui.sidebar import init_session, render_sidebar
from workbench.ui.widgets import streamlit_texts

st.set_page_config(page_title="MLOps Workbench", page_icon=":material/school:", layout="wide")
init_session()
page = st.navigation(build_pages())
st.set_page_config(page_title=f"{page.title} · {t('home.title')}")  # the browser tab, in the learner's language
streamlit_texts()
render_sidebar()
run_page(page)
