"""Predictions: load the shipped model safely (skops, approved types only) and score applications."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import pandas as pd

from loan_model import config
from loan_model.processing import validate_records


@lru_cache(maxsize=4)
def load_model(path: Path | None = None):
    """The fitted pipeline saved with skops (loaded once per path).

    Raises:
        FileNotFoundError: no model at that path.
        ValueError: the file contains types that are not in config.TRUSTED_TYPES.
    """
    import skops.io as sio

    path = Path(path or config.MODEL_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"no model at {path} (set LOAN_MODEL_PATH or retrain with scripts/train_model.py)")
    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - set(config.TRUSTED_TYPES))
    if refused:
        raise ValueError(f"{path.name} contains types that are not trusted: {refused}")
    return sio.load(path, trusted=untrusted)


def model_info() -> dict:
    """What the shipped model was trained with (library versions, data, metrics)."""
    return json.loads(config.MODEL_INFO_PATH.read_text(encoding="utf-8"))


def predict_probability(records: Iterable[Mapping[str, object]] | pd.DataFrame) -> list[float]:
    """Probability of approval of each application."""
    frame = validate_records(records)
    return [float(p) for p in load_model().predict_proba(frame)[:, 1]]


def make_prediction(records: Iterable[Mapping[str, object]] | pd.DataFrame) -> list[str]:
    """Decision for each application: "Y" (approved) or "N".

    Raises:
        ValueError: an application fails validation (see processing.validate_records).
    """
    return ["Y" if p >= config.THRESHOLD else "N" for p in predict_probability(records)]
