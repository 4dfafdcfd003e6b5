""" "Show me the code" of the pipeline's steps."""

from __future__ import annotations

from workbench.chapters.ch08_cicd.delivery.state import (
    EVAL_ROWS,
    EVAL_SEED,
    INJECTED_TEST,
    INJECTED_TEST_CODE,
    NEW_DATA_SEED,
    NOISE_RATE,
    WEAK_MODEL,
    PipelineRun,
)
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# "Show me the code"
# --------------------------------------------------------------------------------------------


def commit_code(run: PipelineRun) -> str:
    """The shell commands of the commit step."""
    inject = {"failing_test": f"cat > {INJECTED_TEST} <<'EOF'\n{INJECTED_TEST_CODE}EOF\n"}.get(run.config.injection, "")
    message = run.config.message.replace("'", "'\\''")
    return (
        f"cd loan_model_package\n{inject}echo '- pipeline #{run.number}: {message}' >> CHANGELOG.md\n"
        f"git add -A\ngit commit -m '{message}'\ngit rev-parse HEAD      # {run.commit or '<sha>'}\n"
    )


def build_code(cached: bool) -> str:
    """The build step as shell commands (and how the cache key is computed)."""
    key = "git rev-parse HEAD:src HEAD:pyproject.toml HEAD:MANIFEST.in HEAD:README.md | sha256sum   # cache key\n"
    return key + (
        "# same key as the last build: reuse dist/*.whl\n"
        if cached
        else "python -m build --sdist --wheel --outdir dist\n"
    )


def test_code() -> str:
    """The test step as shell commands."""
    return (
        "python -m pip install --target site dist/loan_model-0.1.0-py3-none-any.whl\n"
        "PYTHONPATH=site python -m pytest tests -o junit_family=xunit2 --junitxml=reports/junit.xml -q"
    )


def train_code(run: PipelineRun, settings: Settings) -> str:
    """Python equivalent of the training step (data, training, MLflow logging, evaluation)."""
    model_name, params = (
        WEAK_MODEL if run.config.injection == "weak_params" else (run.config.model_name, run.config.params)
    )
    noise = ""
    if run.config.injection == "noisy_labels":
        noise = (
            f"flip = np.random.default_rng({NEW_DATA_SEED + run.number}).random(len(data)) < {NOISE_RATE}\n"
            'data.loc[flip, "Loan_Status"] = np.where(data.loc[flip, "Loan_Status"] == "Y", "N", "Y")  # injected bug\n'
        )
    return f'''import numpy as np
import pandas as pd
from workbench.core import tracking
from workbench.core.data import generate_loan_data, load_course_data
from workbench.core.modeling import train_model
from workbench.chapters.ch08_cicd.delivery import evaluation_data, score

# continuous training: last data + the new batch of applications
batch = generate_loan_data({run.config.new_rows}, seed={NEW_DATA_SEED + run.number})
data = pd.concat([load_course_data(), batch], ignore_index=True)
{noise}result = train_model(data, "{model_name}", {params!r})
logged = tracking.log_training_run(result, data, "{run.learner}", chapter="08_cicd")   # MLflow run
print(logged.run_id, score(result.pipeline, evaluation_data()))                  # fixed evaluation set
'''


def gate_code(
    settings: Settings, model_uri: str, metric: str = "accuracy", margin: float = 0.0, *, learner: str = ""
) -> str:
    """A standalone gate script: exits with 1 (the CI step fails) when the candidate does not pass."""
    name = settings.learner_model_name(learner)  # class mode: the learner's own registered model
    return f'''import sys

import mlflow
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from workbench.core.data import generate_loan_data, split_features_target
from workbench.core.safe_models import load_model_uri                  # skops only, our reviewed trusted types

mlflow.set_tracking_uri("{settings.mlflow_tracking_uri}")
X, y = split_features_target(generate_loan_data({EVAL_ROWS}, seed={EVAL_SEED}))   # the fixed evaluation set
METRICS = {{"accuracy": lambda p: accuracy_score(y, p >= 0.5), "f1": lambda p: f1_score(y, p >= 0.5),
           "roc_auc": lambda p: roc_auc_score(y, p)}}
measure = METRICS["{metric}"]


def scored(uri):
    return measure(load_model_uri(uri).predict_proba(X)[:, 1])


candidate = scored("{model_uri}")                  # the model the training step logged
baseline = measure(np.full(len(y), float(y.mean() >= 0.5)))          # always the majority class
try:
    production = scored("models:/{name}@production")
except mlflow.exceptions.MlflowException:                         # nothing in production yet
    production = None
print(f"candidate={{candidate:.4f}} baseline={{baseline:.4f}} production={{production}}")
if candidate <= baseline:
    sys.exit("gate closed: the candidate does not beat the majority baseline")
if production is not None and candidate < production + {margin!r}:
    sys.exit("gate closed: the candidate does not beat @production by the margin")
print("gate open")
'''


def promote_code(
    settings: Settings, alias: str, version: int | None, model_uri: str | None = None, *, learner: str = ""
) -> str:
    """Registering the candidate (staging) or moving `production` of the learner's model, with MlflowClient."""
    name = settings.learner_model_name(learner)
    register = ""
    if alias == "staging":
        register = f'version = mlflow.register_model("{model_uri or "<model_uri>"}", "{name}").version\n'
    target = "version" if alias == "staging" else str(version)
    return f'''import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri("{settings.mlflow_tracking_uri}")
client = MlflowClient()
{register}client.set_registered_model_alias("{name}", "{alias}", {target})
print(client.get_model_version_by_alias("{name}", "{alias}").version)
'''
