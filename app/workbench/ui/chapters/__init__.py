"""Each chapter's Streamlit tabs, one module (or package) per chapter."""
