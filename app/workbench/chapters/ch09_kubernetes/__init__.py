"""Chapter 9: Kubernetes on GCP: manifests, a broken deployment, autoscaling, GKE."""

from workbench.core.course import Chapter, Tab

CHAPTER = Chapter(
    number=9,
    slug="kubernetes",
    section="deploy",
    icon=":material/cloud:",
    tabs=(
        Tab("k8s.tab_generator", "generator_tab"),
        Tab("k8s.tab_broken", "broken_tab"),
        Tab("k8s.tab_autoscale", "autoscale_tab"),
        Tab("k8s.tab_gke", "gke_tab"),
    ),
    checks=(
        "workbench.chapters.ch09_kubernetes.lab:check_fixed_manifest",
        "workbench.chapters.ch09_kubernetes.lab:check_hpa_sizing",
        "workbench.chapters.ch09_kubernetes.lab.sharing:check_configmap_namespace",
    ),
)
