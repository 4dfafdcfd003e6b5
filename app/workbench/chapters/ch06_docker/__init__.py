"""Chapter 6: Docker: the app's Dockerfiles, compose, the learner's own image."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=6,
    slug="docker",
    section="build",
    icon=":material/deployed_code:",
    tabs=(
        Tab("docker.tab_dockerfile", "dockerfile_tab", ("Dockerfile",)),
        Tab("docker.tab_dockerfile_api", "dockerfile_tab", ("Dockerfile.api",)),
        Tab("docker.tab_compose", "compose_tab"),
        Tab("docker.tab_yours", "yours_tab"),
    ),
    checks=(
        "workbench.chapters.ch06_docker.deployfiles:check_learner_dockerfile",
        "workbench.chapters.ch06_docker.run_semantics:check_entrypoint_cmd",
        "workbench.chapters.ch06_docker.run_semantics:check_expose_publish",
    ),
)
