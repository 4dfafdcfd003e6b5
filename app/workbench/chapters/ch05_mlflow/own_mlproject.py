"""Chapter V work-based check: an MLproject the learner writes, loaded by MLflow and run for real.

The learner's MLproject is saved as a learner record. The check copies it into a scratch folder beside
what it needs (the `python_env.yaml` the workbench provides and the course data), has MLflow's own project
loader parse it, checks the structure the course teaches (a name, an environment, an entry point `main`
with typed parameters that have defaults, a command that uses them), then runs
`mlflow run <folder> --env-manager local -P name=value` with values that are NOT the defaults. It passes
only when the run succeeded, is tagged with the learner, and logged exactly the values it was given: a
command that hard-codes a value, or never hands a parameter to the training script, fails.

`mlflow run` executes the learner's command: like chapter VII's learner code, it is refused in class mode.
"""

from __future__ import annotations

import re
import shutil
import string
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from workbench.chapters.ch05_mlflow.mlproject import ProjectRun, project_env, stream_run
from workbench.chapters.ch07_web_apps_api.learner_code import MAX_SCRIPT_BYTES, refused_in_class, sandbox
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.modeling import MODEL_NAMES, MODEL_SPECS
from workbench.core.records import records_for
from workbench.core.settings import Settings

RECORD_KEY = "ch05_mlflow/MLproject"  # the learner's own MLproject
TRAIN_MODULE = "workbench.core.train"  # the training script the repository's MLproject runs
PARAM_TYPES = ("string", "float", "path", "uri")  # MLflow's parameter types
ENVIRONMENTS = ("python_env", "conda_env", "docker_env")
TIMEOUT = 300

#: What the exercise starts from: no parameters, the depth written into the command.
TEMPLATE = """\
name: my-loan-project

python_env: python_env.yaml

entry_points:
  main:
    command: "python -m workbench.core.train --model decision_tree --max-depth 3"
"""

#: Values the check passes with -P, different from a default: the first that differs (all valid for the script).
ALTERNATIVES: dict[str, tuple[float, ...]] = {
    "C": (0.5, 2.0),
    "max_depth": (5, 3),
    "min_samples_leaf": (4, 2),
    "n_estimators": (50, 120),
    "max_iter": (150, 80),
    "learning_rate": (0.2, 0.05),
    "seed": (7, 13),
    "test_size": (0.25, 0.3),
}
HYPERPARAMETERS = {p.name for spec in MODEL_SPECS.values() for p in spec.params}


def load_text(settings: Settings, learner: str) -> str:
    """The learner's saved MLproject, or the exercise's starting point."""
    return records_for(settings, learner).get_text(RECORD_KEY) or TEMPLATE


def save_text(settings: Settings, learner: str, text: str) -> None:
    """Save the learner's MLproject.

    Raises:
        ValueError: the file is larger than a small exercise's.
    """
    if len(text.encode()) > MAX_SCRIPT_BYTES:
        raise ValueError(f"MLproject larger than {MAX_SCRIPT_BYTES} bytes")
    records_for(settings, learner).put_text(RECORD_KEY, text)


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def structure_problems(text: str, folder: Path, lang: str) -> list[str]:
    """What is wrong with the MLproject in `folder` (written from `text`), named for the learner; [] when fine."""
    from mlflow.exceptions import MlflowException
    from mlflow.projects._project_spec import load_project

    def tr(key: str, **kwargs: object) -> str:
        return translate(f"mlflow_own.mlp_{key}", lang, **kwargs)

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [tr("yaml", line=(mark.line + 1) if mark else "?", error=getattr(exc, "problem", None) or exc)]
    if not isinstance(raw, dict):
        return [tr("not_mapping")]
    problems = []
    if not str(raw.get("name") or "").strip():
        problems.append(tr("no_name"))
    envs = [key for key in ENVIRONMENTS if key in raw]
    if any(key != "python_env" for key in envs) or (envs and raw["python_env"] != "python_env.yaml"):
        problems.append(tr("environment"))
    main = raw.get("entry_points", {}).get("main") if isinstance(raw.get("entry_points"), dict) else None
    if not isinstance(main, dict):
        return [*problems, tr("no_main")]
    command = str(main.get("command") or "")
    if not command.strip():
        problems.append(tr("no_command"))
    elif TRAIN_MODULE not in command:
        problems.append(tr("not_train", module=TRAIN_MODULE))
    parameters = main.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        return [*problems, tr("no_parameters")]
    untyped = [name for name, spec in parameters.items() if not isinstance(spec, dict) or "type" not in spec]
    if untyped:
        problems.append(tr("untyped", names=", ".join(map(str, untyped)), types=", ".join(PARAM_TYPES)))
    bad_type = [
        f"{name} ({spec['type']})"
        for name, spec in parameters.items()
        if isinstance(spec, dict) and "type" in spec and spec["type"] not in PARAM_TYPES
    ]
    if bad_type:
        problems.append(tr("bad_type", names=", ".join(bad_type), types=", ".join(PARAM_TYPES)))
    no_default = [
        name for name, spec in parameters.items() if not isinstance(spec, dict) or spec.get("default") is None
    ]
    if no_default:
        problems.append(tr("no_default", names=", ".join(map(str, no_default))))
    unused = [name for name in parameters if "{" + str(name) + "}" not in command]
    if command.strip() and unused:
        problems.append(tr("unused", names=", ".join(f"{{{n}}}" for n in unused)))
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(command) if field}
    except ValueError:  # a lone brace: MLflow's own reading names it below
        fields = set()
    if fields - set(map(str, parameters)):
        problems.append(
            tr("unknown_placeholder", names=", ".join(f"{{{n}}}" for n in sorted(fields - set(parameters))))
        )
    tunable = [name for name in parameters if name in ALTERNATIVES or name == "model"]
    if len(tunable) < 2:
        problems.append(tr("few_parameters", names=", ".join(["model", *ALTERNATIVES])))
    if problems:
        return problems
    try:  # MLflow's own reading of the file, as `mlflow run` will do it
        project = load_project(str(folder))
        project.get_entry_point("main").compute_command({}, None)
    except (MlflowException, AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        return [tr("mlflow_refused", error=str(exc).replace(str(folder), "."))]
    return []


def trial_values(parameters: dict) -> dict[str, str]:
    """The -P values the check passes: for each parameter it knows, a valid value that is not the default.

    `model` changes family only when another family uses every hyperparameter declared (otherwise the
    script would, rightly, not log them); the learner's name is passed to a `learner` parameter.
    """
    values: dict[str, str] = {}
    for name, spec in parameters.items():
        default = _number(spec.get("default")) if isinstance(spec, dict) else None
        for candidate in ALTERNATIVES.get(name, ()):
            if default is None or candidate != default:
                values[name] = f"{candidate:g}"
                break
    if "model" in parameters:
        declared = {name for name in parameters if name in HYPERPARAMETERS}
        current = str((parameters["model"] or {}).get("default"))
        for family in MODEL_NAMES:
            if family != current and declared <= {p.name for p in MODEL_SPECS[family].params}:
                values["model"] = family
                break
    return values


#: MLflow's refusal when the script logs, for a parameter `mlflow run` already logged, another value.
CHANGED_PARAM = re.compile(r"'key': '([^']+)', 'old_value': '([^']*)', 'new_value': '([^']*)'")


def _judge(logged, values: dict[str, str], learner: str, lang: str) -> list[str]:
    """What is wrong with a finished run: not the learner's, or a value given with -P the script did not use.

    `mlflow run` logs the -P values itself; the training script then logs every parameter it used (a
    different value makes the run fail, see CHANGED_PARAM). A hyperparameter the run's model family does
    not have is logged by `mlflow run` only: the script never used it.
    """
    missing = []
    tag = logged.data.tags.get("learner", "?")
    if tag != learner:
        missing.append(translate("mlflow_own.mlp_not_yours", lang, tag=tag, learner=learner))
    params = logged.data.params
    family = params.get("model", "")
    used = {p.name for p in MODEL_SPECS[family].params} if family in MODEL_SPECS else set()
    for name, value in values.items():
        got = params.get(name)
        if name in HYPERPARAMETERS and name not in used:
            missing.append(translate("mlflow_own.mlp_unused_by_family", lang, name=name, value=value, family=family))
        elif got is None or (got != value and _number(got) != _number(value)):
            missing.append(translate("mlflow_own.mlp_ignored", lang, name=name, value=value, logged=got or "?"))
    return missing


def try_project(
    ctx: CheckContext, text: str, on_line: Callable[[str], None] | None = None
) -> tuple[CheckResult, ProjectRun | None]:
    """Load the learner's MLproject with MLflow, run it with non-default values, and judge the run."""
    from workbench.core.tracking import EXPERIMENT
    from workbench.core.tracking.store import client as tracking_client

    if refusal := refused_in_class(ctx):
        return refusal, None
    lang, settings = ctx.lang, ctx.settings
    with sandbox() as box:
        box.write("MLproject", text)
        shutil.copy(settings.repo_root / "python_env.yaml", box.folder / "python_env.yaml")
        if settings.data_path.is_file():
            (box.folder / "data").mkdir()
            shutil.copy(settings.data_path, box.folder / "data" / "loan.csv")
        problems = structure_problems(text, box.folder, lang)
        if problems:
            return failed(*problems), None
        parameters = yaml.safe_load(text)["entry_points"]["main"]["parameters"]
        values = trial_values(parameters)
        extra = {"learner": ctx.learner} if "learner" in parameters else {}
        mlflow_bin = str(Path(sys.executable).parent / "mlflow")
        command = [mlflow_bin, "run", str(box.folder), "--env-manager", "local", "--experiment-name", EXPERIMENT]
        for key, value in {**values, **extra}.items():
            command += ["-P", f"{key}={value}"]
        run = stream_run(command, box.folder, project_env(settings), on_line, timeout=TIMEOUT)
    shown = " ".join(f"-P {k}={v}" for k, v in values.items())
    if not run.succeeded:
        changed = {m.group(1): m for m in CHANGED_PARAM.finditer(run.log)}
        if changed:
            return failed(
                *(
                    translate("mlflow_own.mlp_ignored", lang, name=name, value=m.group(2), logged=m.group(3))
                    for name, m in changed.items()
                )
            ), run
        tail = "\n".join(run.log.splitlines()[-6:])
        return failed(translate("mlflow_own.mlp_run_failed", lang, params=shown, code=run.returncode, log=tail)), run
    assert run.run_id is not None
    missing = _judge(tracking_client(settings).get_run(run.run_id), values, ctx.learner, lang)
    if missing:
        return failed(*missing, evidence={"run_id": run.run_id}), run
    detail = translate("mlflow_own.mlp_ok", lang, run_id=run.run_id, params=shown)
    return passed(detail, evidence={"run_id": run.run_id, "params": values}), run


def check_own_mlproject(ctx: CheckContext) -> CheckResult:
    """Passed when the learner's saved MLproject runs with `mlflow run` and the run logs the non-default
    values it was given, tagged with the learner."""
    if refusal := refused_in_class(ctx):
        return refusal
    text = records_for(ctx.settings, ctx.learner).get_text(RECORD_KEY)
    if text is None:
        return failed(translate("mlflow_own.mlp_none", ctx.lang))
    return try_project(ctx, text)[0]
