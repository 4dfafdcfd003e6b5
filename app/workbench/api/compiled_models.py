"""The models a compiled pipeline ends with: linear models as a dot product, trees and tree ensembles as
one stack of node arrays walked level by level (no Python loop over trees). See `workbench.api.compiler`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit


class NotCompilable(Exception):
    """A step the compiler cannot turn into NumPy: `step` is its path and class, `reason` says why."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


class _Identity:
    """A stand-in final step, so `compile_pipeline` compiles the steps in front of it."""

    classes_ = np.array([0, 1])


def _name(est: Any) -> str:
    return type(est).__name__


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Linear:
    """A linear decision function and how scikit-learn turns it into a probability of class 1."""

    coef: np.ndarray
    intercept: float
    link: str | None  # "logistic", "modified_huber", or None (no predict_proba, like RidgeClassifier)

    def decision(self, x: np.ndarray) -> np.ndarray:
        if np.isnan(x).any():
            raise ValueError("Input X contains NaN.")
        return x @ self.coef + self.intercept

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = self.decision(x)
        if self.link == "logistic":
            return expit(z)
        if self.link == "modified_huber":
            return (np.clip(z, -1, 1) + 1) / 2
        raise AttributeError("this model has no predict_proba")


@dataclass(frozen=True)
class _Forest:
    """All the trees of a model in one set of arrays, walked together level by level.

    Each node has a feature, a threshold and two children (a leaf is its own child, so rows that reached
    a leaf stay there); `value` is what a leaf contributes. Categorical splits (HistGradientBoosting) go
    left when the category's bit is set in the node's row of `categorical_left`.
    """

    feature: np.ndarray  # int, per node
    threshold: np.ndarray  # float, per node (+inf at leaves)
    children: np.ndarray  # (nodes, 2): [right, left]
    missing_left: np.ndarray  # bool, per node: where a NaN goes
    categorical_row: np.ndarray  # int, per node: row of categorical_left, -1 for numeric splits
    categorical_left: np.ndarray  # (categorical splits, 256) bool: go left for this category
    value: np.ndarray  # float, per node (leaves matter)
    roots: np.ndarray  # int, per tree
    depth: int
    float32: bool  # scikit-learn's trees compare float32 inputs; HistGradientBoosting float64 ones
    allow_nan: bool

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """Leaf values, shape (rows, trees)."""
        if self.float32:
            x = x.astype(np.float32)
        nan = np.isnan(x)
        if nan.any() and not self.allow_nan:
            raise ValueError("Input X contains NaN.")
        has_nan = bool(nan.any())
        has_categorical = len(self.categorical_left) > 0
        n = x.shape[0]
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            data = x[rows, self.feature[node]]
            left = data <= self.threshold[node]
            if has_nan or has_categorical:
                missing = np.isnan(data)
                if has_categorical:
                    row = self.categorical_row[node]
                    split = (row >= 0) & ~missing
                    if split.any():
                        value = data[split]
                        bad = value < 0
                        category = np.clip(value, 0, 255).astype(np.intp)
                        goes = self.categorical_left[row[split], category]
                        goes = np.where(bad, self.missing_left[node[split]], goes)
                        left[split] = goes
                if has_nan:
                    left = np.where(missing, self.missing_left[node], left)
            node = self.children[node, left.astype(np.intp)]
        return self.value[node]


def _stack(trees: Sequence[dict[str, np.ndarray]], float32: bool, allow_nan: bool) -> _Forest:
    """Stack per-tree node arrays (local child indices, -1 at leaves) into one `_Forest`."""
    features, thresholds, children, missing, cat_rows, values, roots = [], [], [], [], [], [], []
    cat_tables: list[np.ndarray] = []
    offset, depth = 0, 0
    for tree in trees:
        count = len(tree["feature"])
        leaf = tree["leaf"]
        own = np.arange(count) + offset
        left = np.where(leaf, own, tree["left"] + offset)
        right = np.where(leaf, own, tree["right"] + offset)
        features.append(np.where(leaf, 0, tree["feature"]).astype(np.intp))
        thresholds.append(np.where(leaf, np.inf, tree["threshold"]).astype(np.float64))
        children.append(np.stack([right, left], axis=1))
        missing.append(tree["missing_left"].astype(bool))
        rows = np.full(count, -1, dtype=np.intp)
        if "categorical" in tree:
            for node in np.flatnonzero(tree["categorical"] & ~leaf):
                rows[node] = len(cat_tables)
                cat_tables.append(tree["categorical_left"](node))
        cat_rows.append(rows)
        values.append(tree["value"].astype(np.float64))
        roots.append(offset)
        offset += count
        depth = max(depth, int(tree["depth"]))
    return _Forest(
        feature=np.concatenate(features),
        threshold=np.concatenate(thresholds),
        children=np.concatenate(children).astype(np.intp),
        missing_left=np.concatenate(missing),
        categorical_row=np.concatenate(cat_rows),
        categorical_left=np.array(cat_tables, dtype=bool).reshape(len(cat_tables), 256),
        value=np.concatenate(values),
        roots=np.array(roots, dtype=np.intp),
        depth=depth,
        float32=float32,
        allow_nan=allow_nan,
    )


def _sklearn_tree(tree: Any, value: np.ndarray) -> dict[str, np.ndarray]:
    """A `sklearn.tree._tree.Tree` as node arrays, with `value` per node."""
    t = tree.tree_
    nodes = t.__getstate__()["nodes"]
    missing = nodes["missing_go_to_left"] if "missing_go_to_left" in nodes.dtype.names else np.zeros(t.node_count)
    return {
        "feature": t.feature,
        "threshold": t.threshold,
        "left": t.children_left,
        "right": t.children_right,
        "leaf": t.children_left == -1,
        "missing_left": missing,
        "value": value,
        "depth": t.max_depth,
    }


def _class_one(tree: Any) -> np.ndarray:
    """P(class 1) at each node of a classification tree (normalised like `predict_proba`)."""
    counts = tree.tree_.value[:, 0, :]
    total = counts.sum(axis=1)
    total[total == 0] = 1.0
    return counts[:, 1] / total


def _allow_nan(est: Any) -> bool:
    try:
        return bool(est.__sklearn_tags__().input_tags.allow_nan)
    except AttributeError:
        return False


def _compile_model(est: Any, path: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable | None]:
    """(probability of class 1, decision function or None) for a supported classifier."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
    from sklearn.tree import DecisionTreeClassifier

    where = f"{path} ({_name(est)})"
    if isinstance(est, _Identity):
        return (lambda x: x), None
    classes = getattr(est, "classes_", None)
    if classes is None or len(classes) != 2:
        if isinstance(
            est,
            LogisticRegression
            | SGDClassifier
            | RidgeClassifier
            | DecisionTreeClassifier
            | RandomForestClassifier
            | ExtraTreesClassifier
            | GradientBoostingClassifier
            | HistGradientBoostingClassifier,
        ):
            raise NotCompilable(where, "only two-class models are compiled")
        raise NotCompilable(where, "this model is not supported by the compiler")
    if isinstance(est, LogisticRegression | SGDClassifier | RidgeClassifier):
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
        if coef.shape[0] != 1:
            raise NotCompilable(where, "a decision function with more than one column")
        link: str | None = None
        if isinstance(est, LogisticRegression):
            link = "logistic"
        elif isinstance(est, SGDClassifier) and est.loss in ("log_loss", "modified_huber"):
            link = "logistic" if est.loss == "log_loss" else "modified_huber"
        linear = _Linear(coef[0], float(np.ravel(est.intercept_)[0]), link)
        return linear.proba, linear.decision
    if isinstance(est, DecisionTreeClassifier):
        if est.n_outputs_ != 1:
            raise NotCompilable(where, "more than one output")
        forest = _stack([_sklearn_tree(est, _class_one(est))], float32=True, allow_nan=_allow_nan(est))
        return lambda x: forest.leaves(x)[:, 0], None
    if isinstance(est, RandomForestClassifier | ExtraTreesClassifier):
        if est.n_outputs_ != 1:
            raise NotCompilable(where, "more than one output")
        trees = [_sklearn_tree(t, _class_one(t)) for t in est.estimators_]
        forest = _stack(trees, float32=True, allow_nan=_allow_nan(est))
        return lambda x: forest.leaves(x).mean(axis=1), None
    if isinstance(est, GradientBoostingClassifier):
        return _gradient_boosting(est, where)
    if isinstance(est, HistGradientBoostingClassifier):
        return _hist_gradient_boosting(est, where)
    raise NotCompilable(where, "this model is not supported by the compiler")


def _gradient_boosting(est: Any, where: str) -> tuple[Callable, Callable]:
    from sklearn.dummy import DummyClassifier

    if est.estimators_.shape[1] != 1:
        raise NotCompilable(where, "more than one tree per iteration")
    if not (isinstance(est.init_, str) and est.init_ == "zero") and not isinstance(est.init_, DummyClassifier):
        raise NotCompilable(where, f"its init estimator {_name(est.init_)} depends on the input")
    start = float(est._raw_predict_init(np.zeros((1, est.n_features_in_)))[0, 0])
    rate = est.learning_rate
    trees = [_sklearn_tree(t, rate * t.tree_.value[:, 0, 0]) for t in est.estimators_[:, 0]]
    forest = _stack(trees, float32=True, allow_nan=_allow_nan(est))

    def raw(x: np.ndarray) -> np.ndarray:
        return start + forest.leaves(x).sum(axis=1)

    return lambda x: expit(raw(x)), raw


def _hist_gradient_boosting(est: Any, where: str) -> tuple[Callable, Callable]:
    prepare = _hgb_preprocessor(est, where)
    if est.n_trees_per_iteration_ != 1:
        raise NotCompilable(where, "more than one tree per iteration")
    known_bitsets, f_idx_map = est._bin_mapper.make_known_categories_bitsets()

    def bits(words: np.ndarray) -> np.ndarray:
        return ((words[np.arange(256) // 32] >> (np.arange(256) % 32).astype(np.uint32)) & 1).astype(bool)

    trees = []
    for (predictor,) in est._predictors:
        nodes = predictor.nodes
        raw_left = predictor.raw_left_cat_bitsets

        def categorical_left(node: int, nodes=nodes, raw_left=raw_left) -> np.ndarray:
            go_left = bits(raw_left[nodes["bitset_idx"][node]])
            is_known = bits(known_bitsets[f_idx_map[nodes["feature_idx"][node]]])
            unknown = ~go_left & ~is_known
            return np.where(unknown, bool(nodes["missing_go_to_left"][node]), go_left)

        trees.append(
            {
                "feature": nodes["feature_idx"],
                "threshold": nodes["num_threshold"],
                "left": nodes["left"].astype(np.intp),
                "right": nodes["right"].astype(np.intp),
                "leaf": nodes["is_leaf"].astype(bool),
                "missing_left": nodes["missing_go_to_left"],
                "value": nodes["value"],
                "depth": predictor.get_max_depth(),
                "categorical": nodes["is_categorical"].astype(bool),
                "categorical_left": categorical_left,
            }
        )
    forest = _stack(trees, float32=False, allow_nan=True)
    start = float(np.ravel(est._baseline_prediction)[0])

    def raw(x: np.ndarray) -> np.ndarray:
        return start + forest.leaves(prepare(x)).sum(axis=1)

    return lambda x: expit(raw(x)), raw


def _hgb_preprocessor(est: Any, where: str) -> Callable[[np.ndarray], np.ndarray]:
    """HistGradientBoosting's own encoder of categorical features (an `OrdinalEncoder` in front of the
    trees, categorical columns first), when it has one."""
    pre = getattr(est, "_preprocessor", None)
    if pre is None:
        return lambda x: x
    from workbench.api.compiler import _encoder  # the encoders are compiled there (it imports this module)

    encoder, _ = _encoder(pre.named_transformers_["encoder"], f"{where} › encoder")
    categorical = np.asarray(pre._transformer_to_input_indices["encoder"], dtype=np.intp)
    numerical = np.asarray(pre._transformer_to_input_indices["numerical"], dtype=np.intp)

    def prepare(x: np.ndarray) -> np.ndarray:
        sub = x[:, categorical]
        return np.hstack([encoder((sub, sub))[0], x[:, numerical]])

    return prepare
