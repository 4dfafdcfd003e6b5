"""Chapter ch11_post_production's Streamlit tabs."""
