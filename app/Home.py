"""MLOps Workbench — entrypoint: page config, sidebar (language, learner), navigation."""

import streamlit as st
from workbench.ui.navigation import build_pages, run_page
from workbench.ui.sidebar import init_session, render_sidebar

st.set_page_config(page_title="MLOps Workbench", page_icon=":material/school:", layout="wide")
init_session()
page = st.navigation(build_pages())
render_sidebar()
run_page(page)
