"""Chapter 7: Web apps and APIs: the prediction API, batch, errors, load."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=7,
    slug="web_apps_api",
    section="deploy",
    icon=":material/api:",
    tabs=(
        Tab("api.tab_server", "server_tab"),
        Tab("api.tab_predict", "predict_tab"),
        Tab("api.tab_batch", "batch_tab"),
        Tab("api.tab_errors", "errors_tab"),
        Tab("api.tab_load", "load_tab"),
        Tab("api.tab_proxy", "proxy_tab"),
        Tab("api.tab_clients", "clients_tab"),
    ),
    checks=(
        "workbench.chapters.ch07_web_apps_api.lab:check_prediction",
        "workbench.chapters.ch07_web_apps_api.lab:check_read_422",
        "workbench.chapters.ch07_web_apps_api.lab:check_p95",
        "workbench.chapters.ch07_web_apps_api.streamlit_client:check_streamlit_client",
        "workbench.chapters.ch07_web_apps_api.flask_debug:check_flask_debug",
    ),
    prerequisites=("05_mlflow",),  # serves, gates or watches the model put at @production in chapter V
)
