"""The environment: installed packages vs requirements, prefixes, paths, variables (read only)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from workbench.chapters.ch04_packaging.lab.example_package import _clean_env, _run
from workbench.chapters.ch04_packaging.lab.serialization import PackagingError

# --------------------------------------------------------------------------------------------
# The environment: installed packages vs requirements, prefixes, paths, variables (read only)
# --------------------------------------------------------------------------------------------


def canonical(name: str) -> str:
    """A distribution name normalised as pip compares them (`Scikit_Learn` → `scikit-learn`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions() -> dict[str, str]:
    """Every distribution installed in this environment: canonical name → version."""
    out = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out.setdefault(canonical(name), dist.version)
    return dict(sorted(out.items()))


REQUIREMENT_STATUSES = ("pinned_ok", "pinned_differs", "range_ok", "range_violated", "unpinned", "missing", "other")


def compare_requirements(text: str, installed: Mapping[str, str]) -> pd.DataFrame:
    """Each line of a requirements file against the installed versions.

    Returns:
        A table with columns line, package, required, installed, status (one of REQUIREMENT_STATUSES):
        `other` is an option or include line (`-e .`, `-r file`) that names no single package.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    rows = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            rows.append({"line": line, "package": "", "required": "", "installed": "", "status": "other"})
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            rows.append({"line": line, "package": "", "required": "", "installed": "", "status": "other"})
            continue
        name = canonical(req.name)
        version = installed.get(name)
        spec = str(req.specifier)
        pinned = len(req.specifier) == 1 and next(iter(req.specifier)).operator in ("==", "===")
        if version is None:
            status = "missing"
        elif not spec:
            status = "unpinned"
        elif req.specifier.contains(version, prereleases=True):
            status = "pinned_ok" if pinned else "range_ok"
        else:
            status = "pinned_differs" if pinned else "range_violated"
        rows.append({"line": line, "package": name, "required": spec, "installed": version or "", "status": status})
    return pd.DataFrame(rows, columns=["line", "package", "required", "installed", "status"])


def indirect_packages(requirements: pd.DataFrame, installed: Mapping[str, str]) -> list[str]:
    """Installed distributions the requirements do not name (mostly dependencies of dependencies)."""
    named = set(requirements["package"])
    return [name for name in installed if name not in named]


def freeze_text(installed: Mapping[str, str]) -> str:
    """What `pip freeze` would print for these distributions (name==version, one per line)."""
    return "\n".join(f"{name}=={version}" for name, version in installed.items())


@dataclass(frozen=True)
class PythonEnvironment:
    """Where this Python lives and whether it is a virtual environment."""

    executable: str
    version: str
    prefix: str
    base_prefix: str
    in_venv: bool
    site_packages: tuple[str, ...]
    sys_path: tuple[str, ...]


def python_environment() -> PythonEnvironment:
    """The running interpreter: sys.prefix vs sys.base_prefix tells a venv apart."""
    import site
    import sysconfig

    site_packages = tuple(dict.fromkeys([sysconfig.get_paths()["purelib"], *site.getsitepackages()]))
    return PythonEnvironment(
        executable=sys.executable,
        version=sys.version.split()[0],
        prefix=sys.prefix,
        base_prefix=sys.base_prefix,
        in_venv=sys.prefix != sys.base_prefix,
        site_packages=site_packages,
        sys_path=tuple(p for p in sys.path if p),
    )


SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSW|KEY|CREDENTIAL|AUTH|COOKIE|PRIVATE", re.IGNORECASE)
SHOWN_VARIABLES = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONDONTWRITEBYTECODE", "LOAN_MODEL_PATH")
HIDDEN = "••••••"


def mask_value(name: str, value: str) -> str:
    """The value with secrets hidden: whole value for secret-looking names, `user:password@` in URLs."""
    if SECRET_NAME.search(name):
        return HIDDEN
    return re.sub(r"(?<=://)[^/@\s]+@", f"{HIDDEN}@", value)


def environment_variables(env: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The variables that matter to a Python app: PATH & co, every WORKBENCH_*, MLFLOW_TRACKING_URI.

    Returns:
        A table name, value (secrets masked, unset ones shown as empty), set (bool).
    """
    env = os.environ if env is None else env
    names = [*SHOWN_VARIABLES, "MLFLOW_TRACKING_URI", *sorted(k for k in env if k.startswith("WORKBENCH_"))]
    rows = [{"name": n, "value": mask_value(n, env.get(n, "")), "set": n in env} for n in dict.fromkeys(names)]
    return pd.DataFrame(rows, columns=["name", "value", "set"])


def path_entries(env: Mapping[str, str] | None = None, prefix: str | None = None) -> pd.DataFrame:
    """The folders of PATH in search order, flagging the ones inside this environment's prefix."""
    env = os.environ if env is None else env
    prefix = prefix or sys.prefix
    entries = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    return pd.DataFrame(
        {
            "order": range(1, len(entries) + 1),
            "folder": entries,
            "in_this_env": [Path(p).resolve().is_relative_to(Path(prefix).resolve()) for p in entries],
            "has_python": [(Path(p) / "python").exists() or (Path(p) / "python3").exists() for p in entries],
        }
    )


def model_path_demo(site: Path, override: str | None = None, timeout: float = 60) -> tuple[str, str]:
    """Ask the installed package where its model is, with LOAN_MODEL_PATH set to `override` or unset.

    Returns:
        (the shell command, what it printed).

    Raises:
        PackagingError: the package is not installed in `site` (build and test it first).
    """
    if not (site / "loan_model" / "config.py").is_file():
        raise PackagingError("error_not_installed")
    env = _clean_env()
    env["PYTHONPATH"] = str(site)
    env.pop("LOAN_MODEL_PATH", None)
    if override:
        env["LOAN_MODEL_PATH"] = override
    code = "import loan_model.config as c; print(c.MODEL_PATH)"
    _, output = _run([sys.executable, "-c", code], site, env, timeout)
    prefix = f"LOAN_MODEL_PATH={override} " if override else ""
    return f'{prefix}python -c "{code}"', output.strip()
