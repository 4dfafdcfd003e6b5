"""The course is up to date: versions tested from the pins, deny-list of deprecated ways, dated mentions allowed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from workbench.chapters import CHAPTERS
from workbench.core import currency
from workbench.core.lessons import load_lesson
from workbench.core.settings import LANGUAGES, get_settings

from tests.conftest import REPO_ROOT

PINS = currency.parse_pins(
    "# Versions tested together on 2026-12-03\nmlflow==3.17.2\npandas==3.0.6\nscikit-learn==1.9.1\n-e .\n",
    '[project]\nrequires-python = ">=3.11"\n',
)


def _rules(text: str, path: str = "lessons/en/x.md") -> list[str]:
    return [p.rule for p in currency.find_problems(text, path, PINS)]


def test_pins_date_and_python() -> None:
    assert PINS.versions == {
        "mlflow": currency.Version("3.17.2"),
        "pandas": currency.Version("3.0.6"),
        "scikit-learn": currency.Version("1.9.1"),
    }
    assert PINS.tested_on == dt.date(2026, 12, 3) and PINS.python_floor == "3.11"


def test_the_project_pins_say_when_they_were_tested() -> None:
    pins = currency.load_pins(REPO_ROOT)
    assert pins.tested_on is not None and pins.tested_on <= dt.date.today()
    assert pins.versions["mlflow"] == currency.Version(
        re.search(r"^mlflow==(\S+)", (REPO_ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    )


@pytest.mark.parametrize(
    "text, rules",
    [
        ("Run `kubectl get endpoints loan-api`.", ["kubectl-endpoints"]),
        ("Run `kubectl describe service loan-api`.", []),
        ("client.transition_model_version_stage('m', 1, 'Production')", ["mlflow-stages"]),
        ('mlflow.pyfunc.load_model("models:/loan-approval/Production")', ["mlflow-stages"]),
        ('mlflow.pyfunc.load_model("models:/loan-approval@production")', []),
        ("mlflow run . --no-conda", ["mlflow-no-conda"]),
        ("mlflow ui --backend-store-uri ./mlruns", ["mlflow-file-store"]),
        ("mlflow ui --backend-store-uri sqlite:///mlflow.db", []),
        ("docker-compose up -d", ["compose-v1"]),
        ("services: see docker-compose.yml", []),
        ("image: gcr.io/my-project/loan-api", ["container-registry"]),
        ("name: gcr.io/cloud-builders/docker", []),
        ("apiVersion: autoscaling/v2beta2", ["hpa-beta"]),
        ("helm install ingress-nginx ingress-nginx/ingress-nginx", ["ingress-nginx", "ingress-nginx", "ingress-nginx"]),
        ('@app.on_event("startup")', ["fastapi-on-event"]),
        ("- uses: actions/checkout@v4", ["action-major"]),
        ("- uses: actions/checkout@v6", []),
        ("- uses: actions/setup-node@v4", ["action-unknown"]),
        ("pip freeze gives `pandas==2.2.3`", ["version-pin"]),
        ("pip freeze gives `pandas==3.0.6`", []),
        ('dependencies = ["pandas>=2.2", "scikit-learn>=1.5"]', []),
        ('dependencies = ["pandas<3"]', ["version-pin"]),
        ("MLflow 3 saves models with skops", []),
        ("MLflow 2.9 saves models with skops", ["version-prose"]),
        ("Since MLflow 2.10.1, the image has no Java.", []),
        ("FastAPI needs Python 3.6", ["version-python"]),
        ("Use a recent Python (3.11 or later), e.g. Python 3.12", []),
        ("since Python 3.3 (PEP 420)", []),
        ("`np.float` was removed; use `np.float64`", ["numpy-aliases"]),
    ],
)
def test_out_of_date_patterns_are_found(text: str, rules: list[str]) -> None:
    assert _rules(text) == rules


def test_a_block_marked_as_dated_may_name_the_old_way() -> None:
    old = "the course used `docker-compose` and `mlflow run . --no-conda` with Python 3.6"
    assert _rules(f"Before, {old}.") == ["mlflow-no-conda", "compose-v1", "version-python"]
    assert _rules(f"**What changed:** {old}.") == []
    assert _rules(f"**Ce qui a changé :** {old}.", "lessons/fr/x.md") == []
    # the marker covers its own paragraph or list item only, never the next one
    text = f"**What changed:** {old}.\n\nToday: `kubectl get endpoints loan-api`.\n"
    assert [(p.rule, p.line) for p in currency.find_problems(text, "x.md", PINS)] == [("kubectl-endpoints", 3)]
    listed = f"- **What changed:** {old}.\n- then `mlflow run . --no-conda`\n"
    assert [(p.rule, p.line) for p in currency.find_problems(listed, "x.md", PINS)] == [("mlflow-no-conda", 2)]


def test_yaml_lines_use_a_dated_comment_and_markdown_does_not() -> None:
    line = '  en: "a removed API such as `autoscaling/v2beta2`"'
    assert _rules(line, "strings/k8s.yaml") == ["hpa-beta"]
    assert _rules(line + "  # dated: named so the learner recognises it", "strings/k8s.yaml") == []
    assert _rules("```bash\nkubectl get endpoints x   # dated\n```\n") == ["kubectl-endpoints"]


def test_problems_name_file_line_and_fix() -> None:
    [problem] = currency.find_problems("intro\n\n```yaml\n- uses: actions/upload-artifact@v4\n```\n", "l.md", PINS)
    assert (problem.path, problem.line, problem.rule) == ("l.md", 4, "action-major")
    assert str(problem).endswith(f"→ actions/upload-artifact@v{currency.ACTION_MAJORS['actions/upload-artifact']}")


def test_the_course_and_the_project_files_are_up_to_date() -> None:
    """Lessons (FR and EN), annotations, UI strings, snippets in the code, the workflow, the manifests."""
    problems = currency.check_course(REPO_ROOT)
    assert problems == [], "\n".join(map(str, problems))


def test_the_project_workflow_uses_the_current_action_majors() -> None:
    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/ci.yml").read_text())
    used = {s["uses"].split("@")[0]: s["uses"].split("@")[1] for s in workflow["jobs"]["tests"]["steps"] if "uses" in s}
    assert used and all(version == f"v{currency.ACTION_MAJORS[action]}" for action, version in used.items())


def test_quizzes_are_up_to_date() -> None:
    """An old way named in a quiz (a distractor, a question about it) carries a `# dated: why` comment."""
    pins = currency.load_pins(REPO_ROOT)
    problems = [
        p
        for path in sorted((REPO_ROOT / "lessons/exercises").glob("*.yaml"))
        for p in currency.find_problems(path.read_text(encoding="utf-8"), path.name, pins)
    ]
    assert problems == [], "\n".join(map(str, problems))


def test_model_uris_name_the_registry_model() -> None:
    """`models:/loan-model@production` in chapter IX made a learner's copy fail with "model not found"."""
    name = get_settings().model_name
    texts = [
        p.read_text(encoding="utf-8")
        for pattern in ("lessons/*/*.md", "lessons/annotations/*.yaml", "deploy/**/*.yaml", "docker-compose.yml")
        for p in REPO_ROOT.glob(pattern)
    ]
    names = {m.group(1) for text in texts for m in re.finditer(r"models:/([\w.-]+)[@/]", text)}
    assert names - {"name", "nom"} == {name}  # `models:/name@alias` is the URI's shape, not a model


def test_lesson_endpoints_exist_in_the_workbench_api() -> None:
    """`/predict`, `/predict_status`, `/health`… named in the lessons are routes of the API the labs call."""
    from workbench.api import create_app

    routes = set(create_app(get_settings()).openapi()["paths"])  # routers are included lazily: ask the schema
    named = set()
    for lang in LANGUAGES:
        for chapter in CHAPTERS:
            text = load_lesson(chapter.key, lang).text
            named |= set(re.findall(r"localhost:8000(/[\w/]+)", text))
            named |= set(re.findall(r"`(?:GET|POST) (/[\w/]+)`", text))
    assert {"/predict", "/predict_status", "/health"} <= named
    assert named <= routes, named - routes


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_chapter_has_an_up_to_date_line(lang: str) -> None:
    pins = currency.load_pins(REPO_ROOT)
    for chapter in CHAPTERS:
        lesson = load_lesson(chapter.key, lang)
        line = currency.currency_line(lesson.text, lang, pins)
        tested = dict(currency.versions_tested(lesson.text, pins))
        assert tested["Python"] == pins.python_floor
        assert line.startswith("À jour au " if lang == "fr" else "Up to date as of ")
        assert all(f"{name} {version}" in line for name, version in tested.items())
    mlflow = load_lesson("05_mlflow", lang)
    assert dict(currency.versions_tested(mlflow.text, pins))["MLflow"] == str(pins.versions["mlflow"])


def test_the_date_is_written_the_french_way() -> None:
    line = currency.currency_line("MLflow et pandas", "fr", PINS)
    assert line == "À jour au 3 décembre 2026 — versions testées : Python 3.11, MLflow 3.17.2, pandas 3.0.6"
    assert currency.currency_line("MLflow", "en", PINS) == (
        "Up to date as of December 3, 2026 — versions tested: Python 3.11, MLflow 3.17.2"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_manifests_chapter_ix_teaches_validate_and_carry_probes_limits_and_a_secret(lang: str) -> None:
    from workbench.chapters.ch09_kubernetes import lab as k8s

    text = load_lesson("09_kubernetes", lang).text
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    core = "---\n".join(b for b in blocks if "gateway.networking" not in b and "steps:" not in b)
    report = k8s.validate_text(core)
    # strictly valid for today's schemas; the only remark: the Secret is created with kubectl, not in the file
    assert [(p.severity, p.key, p.params.get("kind")) for p in report.problems] == [
        ("warning", "missing_reference", "Secret")
    ]
    [deployment] = [d for d in report.documents if d["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    assert container["resources"]["limits"]["memory"]
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "loan-api-admin"
    assert "kubectl create secret generic loan-api-admin" in text
    assert "gatewayClassName" in text and "HTTPRoute" in text  # Gateway API taught next to Ingress


#: What issue 17 asked each lesson to teach today, in both languages (commands and names are the same in both).
TAUGHT = {
    "05_mlflow": [
        "MLFLOW_ALLOW_FILE_STORE",
        "mlflow migrate-filestore",
        "mlflow models serve",
        "/invocations",
        "dataframe_records",
        "mlflow models build-docker",
        "serving_input_example.json",
    ],
    "04_packaging": ["PEP 420", "find_packages()", "__version__"],
    "06_docker": ["docker buildx build --platform linux/amd64,linux/arm64", "exec format error"],
    "09_kubernetes": [
        "kubectl get endpointslices",
        "readinessProbe",
        "livenessProbe",
        "secretKeyRef",
        "gateway.networking.k8s.io/v1",
        "ingress-nginx",
    ],
    "11_post_production": ["Counterfit", "PyRIT"],
    "07_web_apps_api": ['@app.post("/predict")', "POST /predict_status", '{"status": "Approved"}'],
}


@pytest.mark.parametrize("chapter", sorted(TAUGHT))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_lessons_teach_todays_way(chapter: str, lang: str) -> None:
    text = load_lesson(chapter, lang).text
    assert [snippet for snippet in TAUGHT[chapter] if snippet not in text] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_init_question_is_answered(lang: str) -> None:
    """Chapter IV asks what a folder loses without `__init__.py`: the lesson says (initialization, discovery)."""
    text = load_lesson("04_packaging", lang).text.casefold()
    words = ("initialization", "discovery") if lang == "en" else ("initialisation", "découverte")
    assert all(word in text for word in words)


def test_without_the_project_files_the_line_is_left_out(tmp_path) -> None:
    """Installed from a wheel or a trimmed image (no requirements.txt): no line, and no error on the page."""
    pins = currency.load_pins(tmp_path)
    assert pins.versions == {} and pins.tested_on is None
    assert currency.currency_line("MLflow and pandas", "fr", pins) == ""
