""" "Show me the code" for chapter V: the plain MLflow code equivalent to each action of the page."""

from __future__ import annotations

import shlex

from workbench.core.settings import Settings, get_settings, learner_key
from workbench.core.tracking import EXPERIMENT, LEARNER_TAG, equals_filter


def _header(settings: Settings) -> str:
    return f'''import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri("{settings.mlflow_tracking_uri}")
mlflow.set_experiment("{EXPERIMENT}")
'''


def train_and_log_code(model_name: str, params: dict, learner: str, settings: Settings | None = None) -> str:
    """Train the course pipeline and log everything the page logs."""
    from workbench.core.modeling import training_code

    settings = settings or get_settings()
    train = training_code(model_name, params).split("print(classification_report")[0].rstrip()
    # class mode: the exact key the workbench filters each learner's runs on
    owner = f", {LEARNER_TAG!r}: {learner_key(learner)!r}" if settings.class_mode else ""
    return f'''{train}

# --- track it with MLflow ---------------------------------------------------
import skops.io as sio
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
{_header(settings)}
with mlflow.start_run(run_name="{model_name}") as run:
    mlflow.log_params({{"model": "{model_name}", **{params!r}}})
    proba = pipeline.predict_proba(X_test)[:, 1]
    mlflow.log_metrics({{
        "accuracy": accuracy_score(y_test, proba >= 0.5),
        "precision": precision_score(y_test, proba >= 0.5),
        "recall": recall_score(y_test, proba >= 0.5),
        "f1": f1_score(y_test, proba >= 0.5),
        "roc_auc": roc_auc_score(y_test, proba),
    }})
    mlflow.set_tags({{"learner": {learner!r}{owner}, "chapter": "05_mlflow", "model_family": "{model_name}"}})
    # MLflow 3 saves scikit-learn models with skops: list the types you trust, deliberately.
    trusted = sio.get_untrusted_types(data=sio.dumps(pipeline))
    print("types to review before trusting them:", trusted)
    info = mlflow.sklearn.log_model(
        pipeline,
        name="model",                     # MLflow 3: name=, not artifact_path=
        input_example=X_train.head(3),    # the signature is inferred from it
        skops_trusted_types=trusted,
    )
    mlflow.log_input(mlflow.data.from_pandas(df, source="data/loan.csv", targets="Loan_Status"),
                     context="training")
print(run.info.run_id, info.model_uri)
'''


def grid_search_code(settings: Settings | None = None) -> str:
    """Parent run with one nested child run per (model, params)."""
    from workbench.core.tracking import DEFAULT_GRID

    settings = settings or get_settings()
    return f"""{_header(settings)}
grid = {DEFAULT_GRID!r}

with mlflow.start_run(run_name="grid-search") as parent:
    results = []
    for model_name, options in grid.items():
        for params in options:
            with mlflow.start_run(run_name=model_name, nested=True) as child:
                pipeline = build_pipeline(model_name, params)   # see the Track tab's code
                pipeline.fit(X_train, y_train)
                f1 = f1_score(y_test, pipeline.predict(X_test))
                mlflow.log_params({{"model": model_name, **params}})
                mlflow.log_metric("f1", f1)
                results.append((f1, child.info.run_id))
    best_f1, best_run = max(results)
    mlflow.log_metric("best_f1", best_f1)
    mlflow.set_tag("best_run_id", best_run)
"""


def search_runs_code(
    learner: str | None, model: str | None, metric: str, minimum: float | None, settings: Settings | None = None
) -> str:
    """The `mlflow.search_runs` call behind the runs table (the learner's name quoted the way MLflow reads it)."""
    settings = settings or get_settings()
    filters = []
    if learner and settings.class_mode:
        filters.append(equals_filter(f"tags.`{LEARNER_TAG}`", learner_key(learner)))
    elif learner:
        filters.append(equals_filter("tags.learner", learner))
    if model:
        filters.append(equals_filter("tags.model_family", model))
    if minimum is not None:
        filters.append(f"metrics.{metric} >= {minimum}")
    exact = ""
    if learner and " LIKE " in filters[0]:
        exact = (
            f"\n# a name with both kinds of quotes or a backslash cannot be written in a filter: LIKE, then the exact name"
            f'\nruns = runs[runs["tags.learner"] == {learner!r}]'
        )
    return f'''{_header(settings)}
runs = mlflow.search_runs(
    experiment_names=["{EXPERIMENT}"],
    filter_string={" and ".join(filters)!r},
    order_by=["metrics.{metric} DESC"],
){exact}
print(runs[["run_id", "tags.mlflow.runName", "metrics.{metric}"]].head(20))
'''


def compare_code(run_ids: list[str], settings: Settings | None = None) -> str:
    """Fetching runs by id and putting their params and metrics side by side."""
    settings = settings or get_settings()
    return f"""{_header(settings)}
import pandas as pd

client = MlflowClient()
runs = [client.get_run(run_id) for run_id in {run_ids!r}]
params = pd.DataFrame({{r.info.run_name: r.data.params for r in runs}})
metrics = pd.DataFrame({{r.info.run_name: r.data.metrics for r in runs}})
print(params[params.nunique(axis=1) > 1])   # only the parameters that differ
print(metrics.reindex(["accuracy", "precision", "recall", "f1", "roc_auc"]))
"""


def registry_code(action: str, settings: Settings | None = None, *, learner: str = "", **values: object) -> str:
    """Registry actions on the learner's registered model: register, set_alias, delete_alias, promote, rollback, load."""
    settings = settings or get_settings()
    name = settings.learner_model_name(learner)
    body = {
        "register": f'''run = client.get_run("{values.get("run_id", "<run_id>")}")
model_uri = run.outputs.model_outputs[0].model_id  # MLflow 3: the run's logged model
version = mlflow.register_model(f"models:/{{model_uri}}", "{name}")
client.update_model_version("{name}", version.version, description="{values.get("description", "")}")''',
        "set_alias": f'''client.set_registered_model_alias("{name}", "{values.get("alias", "staging")}", {values.get("version", 1)})''',
        "delete_alias": f'''client.delete_registered_model_alias("{name}", "{values.get("alias", "staging")}")''',
        "promote": f'''staging = client.get_model_version_by_alias("{name}", "staging")
client.set_registered_model_alias("{name}", "production", staging.version)''',
        "rollback": f'''# Aliases have no built-in history: keep one (the workbench stores it in a model tag).
client.set_registered_model_alias("{name}", "production", {values.get("version", 1)})''',
        "load": f"""# MLflow trusts the skops types listed inside the model and loads pickle models: only for models you
# trust. The workbench loads registry models with its own reviewed list (workbench.core.safe_models, chapter XI).
model = mlflow.sklearn.load_model("models:/{name}@production")
print(model.predict_proba(X_test.head())[:, 1])""",
    }[action]
    return f"{_header(settings)}\nclient = MlflowClient()\n{body}\n"


def mlflow_ui_code(port: int, settings: Settings | None = None) -> str:
    """The terminal command that starts the same UI (one worker, without the GenAI job runner: it starts faster)."""
    from workbench.core.mlflow_ui import UI_ENV, ui_command

    variables = " ".join(f"{k}={v}" for k, v in UI_ENV.items())
    return f"{variables} {shlex.join(['mlflow', *ui_command(port, settings)[1:]])}\n"
