"""Chapter V work-based check: nested runs and model signatures logged by the learner's own code.

The learner writes plain MLflow (a parent run, one nested child run per setting, each logging a model
with a signature) and runs it against the workbench's tracking server, tagging the runs `learner`.
The check reads what is really in MLflow: the parent, its children, each child's logged model and the
signature stored with it; it then shows what that signature does by enforcing it on an application
with a column missing.
"""

from __future__ import annotations

from workbench.core.data import NUMERIC_FEATURES
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate

PAGE_GRID_TAG = "grid_search"  # the page's own grid search marks its parent run: not the learner's code


def _signature_of_run(client, experiment_id: str, run_id: str):
    """The signature of the model a run logged (None when it logged no model or no signature)."""
    from mlflow.models import get_model_info

    models = client.search_logged_models(experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'")
    for model in models:
        info = get_model_info(model.model_uri)
        if info.signature is not None:
            return info.signature
    return None


def _refuses_missing_column(signature) -> str | None:
    """Enforce the signature on an input lacking one of its columns; the column it refused, or None."""
    import pandas as pd
    from mlflow.models.utils import _enforce_schema

    inputs = signature.inputs
    if not inputs.has_input_names():
        return None
    names = inputs.input_names()
    row = {name: (1.0 if name in NUMERIC_FEATURES else "x") for name in names[1:]}
    try:
        _enforce_schema(pd.DataFrame([row]), inputs)
    except Exception:  # MlflowException: the schema refuses the input, which is the point
        return str(names[0])
    return None


def check_own_nested_runs(ctx: CheckContext, min_children: int = 2) -> CheckResult:
    """Passed when a parent run of the learner's own code has at least `min_children` nested runs with
    different parameters, each logging a model whose signature names its input columns."""
    from workbench.core.tracking.store import client as tracking_client
    from workbench.core.tracking.store import experiment_id

    lang = ctx.lang
    client, experiment = tracking_client(ctx.settings), experiment_id(ctx.settings)
    runs = client.search_runs([experiment], max_results=2000)
    mine = [r for r in runs if r.data.tags.get("learner") == ctx.learner]
    children: dict[str, list] = {}
    for run in mine:
        parent = run.data.tags.get("mlflow.parentRunId")
        if parent:
            children.setdefault(parent, []).append(run)
    parents = [r for r in mine if r.info.run_id in children and PAGE_GRID_TAG not in r.data.tags]
    if not parents:
        return failed(translate("mlflow_own.no_parent", lang, n=min_children))
    best_missing: list[str] = []
    for parent in sorted(parents, key=lambda r: -len(children[r.info.run_id])):
        kids = children[parent.info.run_id]
        name = parent.info.run_name
        settings = {tuple(sorted(k.data.params.items())) for k in kids}
        missing = []
        if len(kids) < min_children or len(settings) < min_children:
            missing.append(translate("mlflow_own.few_children", lang, name=name, n=len(settings), need=min_children))
        unsigned, refused = [], None
        for kid in kids:
            signature = _signature_of_run(client, experiment, kid.info.run_id)
            if signature is None or not signature.inputs.has_input_names():
                unsigned.append(kid.info.run_name)
            elif refused is None:
                refused = _refuses_missing_column(signature)
        if unsigned:
            missing.append(translate("mlflow_own.unsigned", lang, runs=", ".join(sorted(unsigned))))
        if not missing:
            evidence = {"parent": parent.info.run_id, "children": [k.info.run_id for k in kids]}
            return passed(
                translate("mlflow_own.ok", lang, name=name, n=len(kids), column=refused or "?"), evidence=evidence
            )
        if not best_missing:
            best_missing = missing
    return failed(*best_missing)
