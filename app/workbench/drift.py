"""Chapter X: drift statistics, drift simulations, control charts, retraining strategies, Evidently.

Statistics (vectorised NumPy/SciPy), each with its formula (LaTeX, shown on the page), a threshold and
a verdict, per feature of a reference/current pair:

- PSI (numeric: 10 bins cut at the reference's deciles; CSI on a categorical feature's categories),
  KL(R‖C) and Jensen-Shannon divergence on the same bins; empty bins get ε = 1e-4 before PSI and KL;
- two-sample Kolmogorov-Smirnov (numeric), chi-square test of homogeneity (categorical and discrete),
  Wasserstein distance (numeric, in units of the reference's standard deviation, as Evidently does);
- Evidently's own "chisquare": a goodness-of-fit test of the current counts against the reference's
  proportions taken as exact (it ignores that the reference is a sample too, so it alarms more often);
- the share of missing values, and categories never seen in the reference.

Each feature has a *decision* test chosen as Evidently chooses it by default (KS / chi-square up to 1,000
non-missing reference rows, Wasserstein / Jensen-Shannon above), except that our chi-square is the
two-sample test of homogeneity; for two categories it is exactly Evidently's Z test. An Evidently report
configured with the same tests (`evidently_config`) gives, column by column, the verdict of the same test
computed here (`evidently_comparison`): for more than two categories that is the goodness-of-fit test.
Evidently itself is imported only inside `evidently_report` (it takes seconds to import).

Simulations run on the course data: a timeline of weekly batches of new applicants (the dataset's
generator, seeded), with a drift from a chosen week: shifted or stretched numeric feature, changed
category mix, a new category, a spike of missing values, LoanAmount sent in units instead of thousands,
prediction drift (more applicants without credit history) or concept drift (labels follow a new rule
while the inputs stay the same).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NEGATIVE,
    NUMERIC_FEATURES,
    POSITIVE,
    TARGET,
    generate_loan_data,
)
from workbench.exercises import CheckContext, CheckResult
from workbench.formatting import localize_figure, percent_axis
from workbench.i18n import translate
from workbench.learner_files import read_json, update_json
from workbench.settings import Settings

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from sklearn.pipeline import Pipeline

# ----------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------

EPSILON = 1e-4
N_BINS = 10
DISCRETE_MAX = 5  # a numeric column with at most this many distinct values is treated like a category (as Evidently)
#: statistic → default threshold
THRESHOLDS: dict[str, float] = {
    "psi": 0.25,
    "kl": 0.1,
    "js": 0.01,
    "ks": 0.05,
    "chi2": 0.05,
    "chi2_gof": 0.05,
    "wasserstein": 0.1,
    "missing": 0.10,
}
P_VALUES = frozenset({"ks", "chi2", "chi2_gof"})  # drift when the p-value is *below* the threshold
P_VALUE_INCLUSIVE = frozenset({"ks"})  # ... or equal to it (as Evidently decides KS)
STATISTICS: tuple[str, ...] = ("psi", "kl", "js", "ks", "chi2", "chi2_gof", "wasserstein")
#: which statistics apply to which kind of column
APPLIES: dict[str, tuple[str, ...]] = {
    "numeric": ("psi", "kl", "js", "ks", "wasserstein"),
    "discrete": ("psi", "kl", "js", "ks", "chi2", "chi2_gof", "wasserstein"),
    "categorical": ("psi", "kl", "js", "chi2", "chi2_gof"),
}
FORMULAS: dict[str, str] = {
    "psi": r"\mathrm{PSI} = \sum_i (c_i - r_i)\,\ln\frac{c_i}{r_i}",
    "kl": r"D_{KL}(R\,\|\,C) = \sum_i r_i \ln\frac{r_i}{c_i}",
    "js": r"\mathrm{JS} = \tfrac12 D_{KL}(R\,\|\,M) + \tfrac12 D_{KL}(C\,\|\,M),\quad M = \tfrac12 (R + C)",
    "ks": r"D = \sup_x \left|F_R(x) - F_C(x)\right| \;\rightarrow\; p\text{-value}",
    "chi2": r"\chi^2 = \sum_{s \in \{R, C\}} \sum_i \frac{(O_{s,i} - E_{s,i})^2}{E_{s,i}},"
    r"\quad E_{s,i} = \frac{n_s\, n_i}{n}",
    "chi2_gof": r"\chi^2 = \sum_i \frac{(C_i - E_i)^2}{E_i},\quad E_i = n_C\, r_i"
    r"\quad (r_i \text{ taken as exact})",
    "wasserstein": r"W_1 = \int \left|F_R(x) - F_C(x)\right| dx \;/\; \sigma_R",
    "missing": r"\Delta = \left|\,\mathrm{missing}_C - \mathrm{missing}_R\,\right|",
}
#: our statistic → Evidently's method name computing the same thing (for an Evidently report configured like
#: our verdicts). Evidently has no two-sample chi-square: for two categories its Z test for two proportions is
#: the same test (Z² = our χ²); for more it only has "chisquare", the goodness-of-fit test (`chi2_gof`).
EVIDENTLY_METHODS: dict[str, str] = {
    "js": "jensenshannon",
    "ks": "ks",
    "chi2": "z",
    "chi2_gof": "chisquare",
    "wasserstein": "wasserstein",
}
#: Evidently's method → our statistic that computes exactly the same value and verdict
SAME_AS_EVIDENTLY: dict[str, str] = {method: ours for ours, method in EVIDENTLY_METHODS.items()}
COLUMNS: tuple[str, ...] = (*FEATURES, TARGET)


@dataclass(frozen=True)
class StatResult:
    """One statistic on one feature: its value, threshold and verdict."""

    name: str
    value: float
    threshold: float
    drift: bool
    detail: str = ""


@dataclass(frozen=True)
class FeatureDrift:
    """Every statistic of one feature, and the feature's verdict."""

    feature: str
    kind: str  # numeric | discrete | categorical
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    new_categories: tuple[str, ...]
    stats: dict[str, StatResult]
    decision: str  # the statistic that decides the verdict (as Evidently would choose it)
    n_values: int = 0  # distinct non-missing values in both samples (categories; 0 for numeric features)

    @property
    def drift(self) -> bool:
        """Drift detected: by the decision test, a jump of missing values, or unseen categories."""
        decided = self.stats.get(self.decision)
        missing = self.stats.get("missing")
        return bool(
            (decided is not None and decided.drift) or (missing is not None and missing.drift) or self.new_categories
        )


@dataclass(frozen=True)
class DriftReport:
    """The comparison of a current batch with the reference, feature by feature."""

    features: tuple[FeatureDrift, ...]
    n_reference: int
    n_current: int
    thresholds: dict[str, float]
    seconds: float

    def __getitem__(self, feature: str) -> FeatureDrift:
        for f in self.features:
            if f.feature == feature:
                return f
        raise KeyError(feature)

    @property
    def drifted(self) -> list[str]:
        """Features whose verdict is drift."""
        return [f.feature for f in self.features if f.drift]

    @property
    def share_drifted(self) -> float:
        """Share of the compared features that drift (Evidently flags the dataset at 0.5)."""
        return len(self.drifted) / len(self.features) if self.features else 0.0

    def long_table(self) -> pd.DataFrame:
        """One row per feature and statistic: value, threshold, drift, detail."""
        rows = [
            {"feature": f.feature, "kind": f.kind, "statistic": s.name, "value": s.value,
             "threshold": s.threshold, "drift": s.drift, "decision": s.name == f.decision, "detail": s.detail}
            for f in self.features for s in f.stats.values()
        ]  # fmt: skip
        return pd.DataFrame(rows)


def column_kind(values: pd.Series) -> str:
    """`numeric`, `discrete` (numeric with few distinct values, e.g. Credit_History) or `categorical`."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "discrete" if values.nunique(dropna=True) <= DISCRETE_MAX else "numeric"
    return "categorical"


def _sorted_values(values: pd.Series) -> tuple[np.ndarray, int]:
    """The non-missing, finite values of a numeric column, sorted, and the number of missing ones."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = x[np.isfinite(x)]  # ±inf counts as missing, as Evidently drops it
    present.sort()
    return present, x.size - present.size


def quantile_edges(reference: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (duplicates removed; the outer bins are open)."""
    if reference.size == 0:
        return np.array([])
    ordered = reference if _is_sorted(reference) else np.sort(reference)
    # numpy's default ("linear") quantiles, read directly from the sorted sample
    position = np.linspace(0, 1, n_bins + 1)[1:-1] * (ordered.size - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, ordered.size - 1)
    inner = ordered[low] + (position - low) * (ordered[high] - ordered[low])
    return np.unique(inner)


def _is_sorted(x: np.ndarray) -> bool:
    return x.size < 2 or bool(np.all(x[:-1] <= x[1:]))


def binned_counts(reference: np.ndarray, current: np.ndarray, n_bins: int = N_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both samples in bins cut at the reference's quantiles: (−∞, q₁], (q₁, q₂], …, (qₖ, +∞)."""
    reference = reference if _is_sorted(reference) else np.sort(reference)
    current = current if _is_sorted(current) else np.sort(current)
    edges = quantile_edges(reference, n_bins)

    def counts(x: np.ndarray) -> np.ndarray:
        return np.diff(np.concatenate([[0], np.searchsorted(x, edges, side="right"), [x.size]]))

    return counts(reference), counts(current)


def _value_counts(values: pd.Series) -> tuple[list, np.ndarray, int]:
    """Distinct non-missing values, their counts, and the number of missing values."""
    to_arrow = getattr(values.array, "__arrow_array__", None)
    if to_arrow is not None:  # pandas' Arrow-backed strings: count in Arrow, ~4x faster
        import pyarrow.compute as pc

        counted = pc.value_counts(to_arrow())
        keys = counted.field("values").to_pylist()
        counts = np.asarray(counted.field("counts"), dtype=float)
        keep = [i for i, k in enumerate(keys) if k is not None]
        return [keys[i] for i in keep], counts[keep], int(values.isna().sum()) if len(keep) < len(keys) else 0
    counted = values.value_counts(dropna=True)
    return list(counted.index), counted.to_numpy(dtype=float), int(len(values) - counted.sum())


def category_counts(reference: pd.Series, current: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts per category (reference categories by frequency, then unseen ones), missing values excluded."""
    return _category_counts(_value_counts(reference), _value_counts(current))[:3]


def _category_counts(ref: tuple, cur: tuple) -> tuple[list[str], np.ndarray, np.ndarray, tuple[str, ...]]:
    ref_values, ref_counts, _ = ref
    cur_values, cur_counts, _ = cur
    order = np.argsort(-ref_counts, kind="stable")
    position = {ref_values[i]: k for k, i in enumerate(order)}
    unseen = sorted((v for v in cur_values if v not in position), key=str)
    for value in unseen:
        position[value] = len(position)
    labels = [str(ref_values[i]) for i in order] + [str(v) for v in unseen]
    ref_full = np.concatenate([ref_counts[order], np.zeros(len(unseen))])
    cur_full = np.zeros(len(labels))
    cur_full[[position[v] for v in cur_values]] = cur_counts
    return labels, ref_full, cur_full, tuple(str(v) for v in unseen)


def proportions(counts: np.ndarray) -> np.ndarray:
    """Counts → proportions (all zeros stay zeros)."""
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts, dtype=float)


def smooth(p: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """Proportions with empty bins replaced by ε, renormalised (so PSI and KL stay finite)."""
    q = np.maximum(proportions(np.asarray(p, dtype=float)), epsilon)
    return q / q.sum()


def psi(p_ref: np.ndarray, p_cur: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population Stability Index of two binned distributions (CSI when the bins are categories)."""
    r, c = smooth(p_ref, epsilon), smooth(p_cur, epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def kl_divergence(p: np.ndarray, q: np.ndarray, epsilon: float = EPSILON) -> float:
    """D_KL(P‖Q) in nats, empty bins smoothed with ε (equals `scipy.stats.entropy` on the smoothed inputs)."""
    a, b = smooth(p, epsilon), smooth(q, epsilon)
    return float(np.sum(a * np.log(a / b)))


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in nats (between 0 and ln 2); scipy's `jensenshannon` is its square root."""
    a, b = proportions(np.asarray(p, float)), proportions(np.asarray(q, float))
    m = (a + b) / 2

    def kl(x: np.ndarray) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log(x[mask] / m[mask])))

    return max(0.5 * kl(a) + 0.5 * kl(b), 0.0)


def chi_square(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity on the 2×k table of counts: (statistic, p-value)."""
    from scipy.stats import chi2

    table = np.vstack([ref_counts, cur_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(chi2.sf(statistic, table.shape[1] - 1))


def chi_square_gof(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Evidently's "chisquare": goodness of fit of the current counts to the reference proportions.

    Expected counts are the reference's scaled to the current sample (`n_C · r_i`), as if the reference
    proportions were exact; a category the reference never saw gives χ² = ∞ (p = 0); a single category,
    p = NaN (no verdict). The same call as evidently 0.7.23 (`scipy.stats.chisquare`).

    Returns:
        (statistic, p-value).
    """
    from scipy.stats import chisquare

    ref, cur = np.asarray(ref_counts, float), np.asarray(cur_counts, float)
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0, float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic, p_value = chisquare(cur, ref * (cur.sum() / ref.sum()))
    return float(statistic), float(p_value)


def ecdf_gaps(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """From two sorted samples: the largest gap between their CDFs (KS's D) and the area between them (W₁)."""
    grid = np.unique(np.concatenate([reference, current]))
    gap = np.abs(
        np.searchsorted(reference, grid, side="right") / reference.size
        - np.searchsorted(current, grid, side="right") / current.size
    )
    return float(gap.max()), float(np.sum(gap[:-1] * np.diff(grid)))


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov, two-sided: (D, p-value); (0, 1) when a sample is empty.

    Up to 10,000 rows per sample this is `scipy.stats.ks_2samp` (exact p-value); above, D comes from
    the sorted samples and the p-value from Kolmogorov's limiting distribution (within 1 % of scipy's
    finite-n formula there, and much faster).
    """
    from scipy.stats import ks_2samp, kstwobign

    if reference.size == 0 or current.size == 0:
        return 0.0, 1.0
    if max(reference.size, current.size) <= 10_000:
        result = ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    r = reference if _is_sorted(reference) else np.sort(reference)
    c = current if _is_sorted(current) else np.sort(current)
    d, _ = ecdf_gaps(r, c)
    m, n = sorted([float(r.size), float(c.size)], reverse=True)
    return d, float(np.clip(kstwobign.sf(d * math.sqrt(m * n / (m + n))), 0, 1))


def wasserstein(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Wasserstein-1 distance: (in the feature's unit, divided by the reference's std, at least 0.001)."""
    if reference.size == 0 or current.size == 0:
        return 0.0, 0.0
    r = reference if _is_sorted(reference) else np.sort(reference)
    c = current if _is_sorted(current) else np.sort(current)
    _, raw = ecdf_gaps(r, c)
    return raw, raw / max(float(np.std(r)), 0.001)


def decision_statistic(kind: str, n_reference: int) -> str:
    """The test that decides a feature's verdict, chosen as Evidently does by default from the number of
    non-missing reference values (our chi-square being the two-sample one)."""
    if n_reference <= 1000:
        return "ks" if kind == "numeric" else "chi2"
    return "wasserstein" if kind == "numeric" else "js"


def _verdict(name: str, value: float, thresholds: dict[str, float], detail: str = "") -> StatResult:
    threshold = thresholds[name]
    if math.isnan(value):
        return StatResult(name, value, threshold, False, detail)
    if name in P_VALUE_INCLUSIVE:
        drift = value <= threshold
    else:
        drift = value < threshold if name in P_VALUES else value >= threshold
    return StatResult(name, value, threshold, bool(drift), detail)


def compare_feature(
    reference: pd.Series,
    current: pd.Series,
    thresholds: dict[str, float] | None = None,
    kind: str | None = None,
    decision: str | None = None,
) -> FeatureDrift:
    """Every applicable statistic of one feature, with its verdict.

    Args:
        reference: the feature in the training data.
        current: the feature in the batch to check.
        thresholds: overrides of THRESHOLDS.
        kind: force the column kind (default: from the reference).
        decision: force the decision test (default: as Evidently chooses).
    """
    limits = {**THRESHOLDS, **(thresholds or {})}
    kind = kind or column_kind(reference)
    stats: dict[str, StatResult] = {}
    new: tuple[str, ...] = ()
    r = c = np.array([])
    if kind == "numeric":
        (r, miss_r), (c, miss_c) = _sorted_values(reference), _sorted_values(current)
        ref_counts, cur_counts = binned_counts(r, c)
    else:
        if kind == "discrete":
            (r, _), (c, _) = _sorted_values(reference), _sorted_values(current)
            current = pd.to_numeric(current, errors="coerce")
        ref_vc, cur_vc = _value_counts(reference), _value_counts(current)
        miss_r, miss_c = ref_vc[2], cur_vc[2]
        _, ref_counts, cur_counts, unseen = _category_counts(ref_vc, cur_vc)
        new = unseen if kind == "categorical" else ()
    miss_ref = miss_r / len(reference) if len(reference) else 0.0
    miss_cur = miss_c / len(current) if len(current) else 0.0
    empty = ref_counts.sum() == 0 or cur_counts.sum() == 0
    p_ref, p_cur = proportions(ref_counts), proportions(cur_counts)
    nan = float("nan")
    for name in APPLIES[kind]:
        if empty:
            stats[name] = _verdict(name, nan, limits)
        elif name == "psi":
            stats[name] = _verdict(name, psi(p_ref, p_cur), limits, f"{len(p_ref)} bins")
        elif name == "kl":
            stats[name] = _verdict(name, kl_divergence(p_ref, p_cur), limits)
        elif name == "js":
            js = js_divergence(p_ref, p_cur)
            stats[name] = _verdict(name, js, limits, f"distance √JS = {math.sqrt(js):.4f}")
        elif name == "ks":
            d, p = ks_test(r, c)
            stats[name] = _verdict(name, p, limits, f"D = {d:.4f}")
        elif name == "chi2":
            statistic, p = chi_square(ref_counts, cur_counts)
            stats[name] = _verdict(name, p, limits, f"χ² = {statistic:.2f}, dof = {max(len(p_ref) - 1, 0)}")
        elif name == "chi2_gof":
            statistic, p = chi_square_gof(ref_counts, cur_counts)
            stats[name] = _verdict(name, p, limits, f"χ² = {statistic:.2f}, dof = {max(len(p_ref) - 1, 0)}")
        elif name == "wasserstein":
            raw, normed = wasserstein(r, c)
            stats[name] = _verdict(name, normed, limits, f"W₁ = {raw:.4g}")
    stats["missing"] = _verdict("missing", abs(miss_cur - miss_ref), limits, f"{miss_ref:.1%} → {miss_cur:.1%}")
    return FeatureDrift(
        feature=str(reference.name), kind=kind, n_reference=len(reference) - miss_r, n_current=len(current) - miss_c,
        missing_reference=miss_ref, missing_current=miss_cur, new_categories=new, stats=stats,
        decision=decision or decision_statistic(kind, len(reference) - miss_r),
        n_values=0 if kind == "numeric" else int(((ref_counts + cur_counts) > 0).sum()),
    )  # fmt: skip


def compare_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | tuple[str, ...] | None = None,
    thresholds: dict[str, float] | None = None,
) -> DriftReport:
    """Compare every column present in both frames (default: the 11 features and Loan_Status).

    Raises:
        ValueError: a column is missing from one frame, or a frame is empty.
    """
    start = time.perf_counter()
    if columns is None:
        columns = [c for c in COLUMNS if c in reference.columns and c in current.columns]
    missing = [c for c in columns if c not in reference.columns or c not in current.columns]
    if missing:
        raise ValueError(f"columns missing from one of the frames: {', '.join(missing)}")
    if reference.empty or current.empty:
        raise ValueError("both frames need at least one row")
    kinds = {c: _kind_of(c, reference[c]) for c in columns}
    features = tuple(compare_feature(reference[c], current[c], thresholds, kinds[c]) for c in columns)
    return DriftReport(
        features, len(reference), len(current), {**THRESHOLDS, **(thresholds or {})}, time.perf_counter() - start
    )


def most_drifted(report: DriftReport, among: tuple[str, ...] | list[str] = COLUMNS) -> str | None:
    """The column of `among` that moved most: drifting ones first, then the largest PSI (CSI)."""
    candidates = [f for f in report.features if f.feature in among]
    if not candidates:
        return None

    def moved(f: FeatureDrift) -> tuple[bool, float]:
        value = f.stats["psi"].value if "psi" in f.stats else float("nan")
        return f.drift, -1.0 if math.isnan(value) else value

    return max(candidates, key=moved).feature


def _kind_of(column: str, values: pd.Series) -> str:
    if column in CATEGORICAL_FEATURES or column == TARGET or column == "prediction":
        return "categorical"
    return column_kind(values)


def wide_table(report: DriftReport, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Display table (one row per feature, one column per statistic) and a same-shaped drift mask."""
    names = {s: translate(f"drift.stat_{s}", lang) for s in (*STATISTICS, "missing")}
    rows, masks = [], []
    for f in report.features:
        row = {
            translate("drift.col_feature", lang): f.feature,
            translate("drift.col_kind", lang): translate(f"drift.kind_{f.kind}", lang),
        }
        mask = dict.fromkeys(row, False)
        for s in (*STATISTICS, "missing"):
            result = f.stats.get(s)
            row[names[s]] = float("nan") if result is None else round(result.value, 4)
            mask[names[s]] = bool(result is not None and result.drift)
        new_col = translate("drift.col_new", lang)
        row[new_col] = ", ".join(f.new_categories)
        mask[new_col] = bool(f.new_categories)
        test_col = translate("drift.col_decision", lang)
        row[test_col] = names[f.decision]
        mask[test_col] = False
        verdict_col = translate("drift.col_verdict", lang)
        row[verdict_col] = translate("drift.verdict_drift" if f.drift else "drift.verdict_ok", lang)
        mask[verdict_col] = f.drift
        rows.append(row)
        masks.append(mask)
    return pd.DataFrame(rows), pd.DataFrame(masks)


def compare_code(kind: str, strength: float, feature: str | None, seed: int) -> str:
    """Plain pandas/SciPy code computing PSI, KS and chi-square for the simulated batch."""
    return f"""import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance
from scipy.spatial.distance import jensenshannon
from workbench.data import load_course_data
from workbench.drift import apply_drift, simulate_batch

reference = load_course_data()
current = apply_drift(simulate_batch(len(reference), seed={seed}), {kind!r}, {strength!r},
                      feature={feature!r}, seed={seed})


def psi(ref, cur, bins=10, eps=1e-4):
    ref, cur = ref.dropna().to_numpy(), cur.dropna().to_numpy()
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))  # reference deciles
    r = np.bincount(np.searchsorted(edges, ref), minlength=edges.size + 1) / ref.size
    c = np.bincount(np.searchsorted(edges, cur), minlength=edges.size + 1) / cur.size
    r, c = np.maximum(r, eps), np.maximum(c, eps)  # empty bins
    r, c = r / r.sum(), c / c.sum()
    return np.sum((c - r) * np.log(c / r))


for column in ["ApplicantIncome", "CoapplicantIncome", "LoanAmount"]:
    ref, cur = reference[column].dropna(), current[column].dropna()
    print(column, "PSI", round(psi(reference[column], current[column]), 3),
          "KS p", round(ks_2samp(ref, cur).pvalue, 4),
          "W1/std", round(wasserstein_distance(ref, cur) / ref.std(ddof=0), 3))

for column in ["Property_Area", "Education", "Credit_History"]:
    table = pd.crosstab(
        np.r_[["reference"] * len(reference), ["current"] * len(current)],
        pd.concat([reference[column], current[column]]).astype(str).to_numpy(),
    ).drop(columns="nan", errors="ignore")
    r, c = table.loc["reference"] / table.loc["reference"].sum(), table.loc["current"] / table.loc["current"].sum()
    print(column, "chi2 p", round(chi2_contingency(table, correction=False).pvalue, 4),
          "JS", round(jensenshannon(r, c) ** 2, 4))
"""


def histogram_figure(reference: pd.DataFrame, current: pd.DataFrame, feature: str, lang: str) -> go.Figure:
    """Reference vs current distribution of one feature (shares; missing values as their own bar)."""
    import plotly.graph_objects as go

    ref, cur = reference[feature], current[feature]
    names = (translate("drift.reference", lang), translate("drift.current", lang))
    colors = ("#4c78a8", "#e45756")
    fig = go.Figure()
    missing_label = translate("drift.missing_bar", lang)
    if _kind_of(feature, ref) == "numeric":
        r = ref.dropna().to_numpy(float)
        c = pd.to_numeric(cur, errors="coerce").dropna().to_numpy(float)
        both = np.concatenate([r, c]) if r.size + c.size else np.array([0.0])
        edges = np.histogram_bin_edges(both, bins=30)
        centers = (edges[:-1] + edges[1:]) / 2
        for values, name, color in ((r, names[0], colors[0]), (c, names[1], colors[1])):
            counts = np.histogram(values, edges)[0]
            fig.add_trace(go.Bar(x=centers, y=proportions(counts.astype(float)), name=name, marker_color=color,
                                 opacity=0.6, width=np.diff(edges)))  # fmt: skip
        fig.update_layout(barmode="overlay")
    else:
        labels, rc, cc = category_counts(ref, cur)
        labels = labels + [missing_label]
        r_share = np.append(rc, ref.isna().sum()) / max(len(ref), 1)
        c_share = np.append(cc, cur.isna().sum()) / max(len(cur), 1)
        fig.add_trace(go.Bar(x=labels, y=r_share, name=names[0], marker_color=colors[0]))
        fig.add_trace(go.Bar(x=labels, y=c_share, name=names[1], marker_color=colors[1]))
        fig.update_layout(barmode="group")
        fig.update_xaxes(type="category")
    fig.update_layout(
        title=translate("drift.hist_title", lang, feature=feature),
        yaxis_title=translate("drift.share", lang), height=360, margin={"t": 50, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    )  # fmt: skip
    shares = [v for trace in fig.data for v in trace.y]
    fig.update_yaxes(**percent_axis(0.0, max(shares, default=0.01), lang))
    return localize_figure(fig, lang)


# ----------------------------------------------------------------------------------------------
# Simulations
# ----------------------------------------------------------------------------------------------

DRIFT_KINDS: tuple[str, ...] = (
    "none", "shift", "scale", "category_mix", "new_category", "missing_spike", "unit_change", "prediction", "concept",
)  # fmt: skip
CONTINUOUS: tuple[str, ...] = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount")
#: kind → (features it can act on, default feature)
DRIFT_FEATURES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "none": ((), None),
    "shift": (CONTINUOUS, "ApplicantIncome"),
    "scale": (CONTINUOUS, "ApplicantIncome"),
    "category_mix": ((*CATEGORICAL_FEATURES, "Credit_History", "Loan_Amount_Term"), "Property_Area"),
    "new_category": (CATEGORICAL_FEATURES, "Property_Area"),
    "missing_spike": (NUMERIC_FEATURES + CATEGORICAL_FEATURES, "Credit_History"),
    "unit_change": (("LoanAmount",), "LoanAmount"),
    "prediction": (("Credit_History",), "Credit_History"),
    "concept": ((), None),
}
NEW_CATEGORY: dict[str, str] = {
    "Property_Area": "Periurban", "Education": "PhD", "Dependents": "4+", "Gender": "Other",
    "Married": "Divorced", "Self_Employed": "Freelance",
}  # fmt: skip
#: the value a category_mix moves rows to (the second most frequent value of the course data)
MIX_TARGET: dict[str, object] = {
    "Property_Area": "Rural", "Education": "Not Graduate", "Dependents": "1", "Gender": "Female",
    "Married": "No", "Self_Employed": "Yes", "Credit_History": 0.0, "Loan_Amount_Term": 180.0,
}  # fmt: skip
DEFAULT_STRENGTH: dict[str, float] = {
    "none": 0.0, "shift": 0.5, "scale": 0.5, "category_mix": 0.3, "new_category": 0.2, "missing_spike": 0.4,
    "unit_change": 1.0, "prediction": 0.4, "concept": 0.8,
}  # fmt: skip


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _seed(*parts: object) -> int:
    return int(_rng(*parts).integers(0, 2**31 - 1))


def simulate_batch(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """A batch of new applications (with their labels) from the course data's generator."""
    return generate_loan_data(n_rows, seed=_seed("batch", seed))


def apply_drift(
    frame: pd.DataFrame, kind: str, strength: float, *, feature: str | None = None, seed: int = 0
) -> pd.DataFrame:
    """A drifted copy of a batch.

    Args:
        frame: a loan table (features and Loan_Status).
        kind: one of DRIFT_KINDS.
        strength: 0 (no change) to 1 (strongest); for shift, the shift in standard deviations.
        feature: the feature to act on (default per kind, see DRIFT_FEATURES).
        seed: seeds which rows are touched.

    Raises:
        ValueError: unknown kind, or a feature this kind cannot act on.
    """
    if kind not in DRIFT_FEATURES:
        raise ValueError(f"unknown drift kind {kind!r}; choose one of {', '.join(DRIFT_KINDS)}")
    allowed, default = DRIFT_FEATURES[kind]
    feature = feature or default
    if allowed and feature not in allowed:
        raise ValueError(f"{kind} cannot act on {feature!r}; choose one of {', '.join(allowed)}")
    strength = float(min(max(strength, 0.0), 3.0))
    out = frame.copy()
    rng = _rng("drift", kind, feature, seed)
    n = len(out)
    if kind == "none" or n == 0 or strength == 0:
        return out
    share = min(strength, 1.0)
    touched = rng.random(n) < share
    if kind == "shift":
        values = out[feature]
        out[feature] = values + strength * float(values.std(ddof=0))
    elif kind == "scale":
        values = out[feature]
        center = float(values.median())
        out[feature] = (center + (values - center) * (1 + 2 * strength)).clip(lower=0)
    elif kind == "category_mix":
        target = MIX_TARGET[feature]
        out.loc[touched & out[feature].notna().to_numpy(), feature] = target
    elif kind == "new_category":
        out.loc[touched, feature] = NEW_CATEGORY[feature]
    elif kind == "missing_spike":
        out.loc[touched, feature] = np.nan
    elif kind == "unit_change":
        out.loc[touched, feature] = out.loc[touched, feature] * 1000
    elif kind == "prediction":
        # More applicants without a credit history: whole applications (labels included) resampled,
        # so the model's inputs and its predictions move together, and it stays right.
        pool = np.flatnonzero((out["Credit_History"] == 0).to_numpy())
        replace = np.flatnonzero(touched & (out["Credit_History"] == 1).to_numpy())
        if pool.size and replace.size:
            rows = np.arange(n)
            rows[replace] = rng.choice(pool, size=replace.size, replace=True)
            out = out.iloc[rows].reset_index(drop=True).set_axis(frame.index)
    elif kind == "concept":
        # Same applicants, new rule: lenders now approve the most affordable 69 % of loans,
        # whatever the credit history. P(X) and P(Y) barely move; P(Y|X) changes.
        income = out["ApplicantIncome"] + out["CoapplicantIncome"]
        monthly = out["LoanAmount"].fillna(out["LoanAmount"].median()) * 1000 / out["Loan_Amount_Term"].fillna(360)
        burden = (monthly / income.clip(lower=1)) * np.exp(rng.normal(0, 0.15, n))
        cut = np.nanquantile(burden, 0.69)
        new_label = np.where(burden <= cut, POSITIVE, NEGATIVE)
        out[TARGET] = np.where(touched, new_label, out[TARGET])
    return out


@dataclass
class Timeline:
    """Weekly batches of production data, drifting from `start_week` on (weeks count from 1)."""

    batches: list[pd.DataFrame]
    kind: str
    strength: float
    feature: str | None
    start_week: int
    batch_size: int
    seed: int

    @property
    def weeks(self) -> list[int]:
        """Week numbers, from 1."""
        return list(range(1, len(self.batches) + 1))


def simulate_timeline(
    kind: str,
    strength: float | None = None,
    *,
    feature: str | None = None,
    weeks: int = 20,
    start_week: int = 10,
    batch_size: int = 200,
    seed: int = 0,
) -> Timeline:
    """Weekly batches of new applicants; from `start_week` on, each batch gets the drift.

    Raises:
        ValueError: unknown drift kind or feature, fewer than 2 weeks, or a start outside the timeline.
    """
    if weeks < 2 or not 1 <= start_week <= weeks:
        raise ValueError("need at least 2 weeks and a start week inside the timeline")
    if kind not in DRIFT_FEATURES:
        raise ValueError(f"unknown drift kind {kind!r}")
    strength = DEFAULT_STRENGTH[kind] if strength is None else strength
    feature = feature or DRIFT_FEATURES[kind][1]
    rows = simulate_batch(weeks * batch_size, seed=_seed("timeline", seed))  # one draw, cut into weeks
    batches = []
    for week in range(1, weeks + 1):
        batch = rows.iloc[(week - 1) * batch_size : week * batch_size].reset_index(drop=True)
        if week >= start_week:
            batch = apply_drift(batch, kind, strength, feature=feature, seed=_seed("week", seed, week))
        batches.append(batch)
    return Timeline(batches, kind, strength, feature, start_week, batch_size, seed)


def fit_model(frame: pd.DataFrame, model_name: str = "logistic_regression") -> Pipeline:
    """Fit the course pipeline on a labelled loan table (all rows, no split)."""
    from workbench.modeling import build_pipeline

    pipeline = build_pipeline(model_name)
    pipeline.fit(frame[list(FEATURES)], (frame[TARGET] == POSITIVE).astype(int))
    return pipeline


def predicted_labels(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The model's decisions (Y/N) for a loan table."""
    return np.where(model.predict_proba(frame[list(FEATURES)])[:, 1] >= 0.5, POSITIVE, NEGATIVE)


def with_predictions(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """The table with a `prediction` column (Y/N), to watch prediction drift like any feature."""
    return frame.assign(prediction=predicted_labels(model, frame))


# ----------------------------------------------------------------------------------------------
# Monitored statistics per batch and control charts
# ----------------------------------------------------------------------------------------------


def monitored_statistics() -> tuple[str, ...]:
    """Statistics a control chart can follow: `approval_rate`, `mean:<feature>`, `missing:<feature>`, `psi:<feature>`."""
    return (
        "approval_rate",
        *(f"mean:{f}" for f in CONTINUOUS),
        *(f"missing:{f}" for f in ("Credit_History", "LoanAmount", "Self_Employed")),
        *(f"psi:{f}" for f in FEATURES),
    )


def statistic_label(name: str, lang: str) -> str:
    """A readable name of a monitored statistic."""
    kind, _, feature = name.partition(":")
    return translate(f"drift.monitor_{kind}", lang, feature=feature)


def batch_statistic(name: str, batch: pd.DataFrame, reference: pd.DataFrame, predictions: np.ndarray | None) -> float:
    """The value of a monitored statistic on one batch."""
    kind, _, feature = name.partition(":")
    if kind == "approval_rate":
        if predictions is None:
            raise ValueError("approval_rate needs the model's predictions")
        return float(np.mean(np.asarray(predictions) == POSITIVE))
    if kind == "mean":
        return float(pd.to_numeric(batch[feature], errors="coerce").mean())
    if kind == "missing":
        return float(batch[feature].isna().mean())
    if kind == "psi":
        return feature_psi(reference[feature], batch[feature])
    raise ValueError(f"unknown statistic {name!r}")


CHART_BASELINE_WEEKS = 5  # the first weeks of production set a control chart's centre line


@dataclass(frozen=True)
class ControlChart:
    """A statistic per batch with its centre line, ±2σ/±3σ limits and the Western Electric rules that fired."""

    statistic: str
    weeks: list[int]
    values: np.ndarray
    center: float
    sigma: float
    signals: dict[int, list[str]]  # week → rules that fired there

    @property
    def upper(self) -> float:
        """Upper control limit (centre + 3σ)."""
        return self.center + 3 * self.sigma

    @property
    def lower(self) -> float:
        """Lower control limit (centre − 3σ)."""
        return self.center - 3 * self.sigma

    @property
    def first_signal(self) -> int | None:
        """The first week a rule fired, if any."""
        return min(self.signals) if self.signals else None


def western_electric(values: np.ndarray, center: float, sigma: float) -> dict[int, list[str]]:
    """Positions (0-based) where rule 1 (a point beyond 3σ), rule 2 (2 of 3 beyond 2σ, same side)
    or rule 4 (8 in a row on the same side of the centre) fires."""
    z = (np.asarray(values, float) - center) / (sigma if sigma > 0 else np.inf)
    z = np.nan_to_num(z)
    fired: dict[int, list[str]] = {}

    def add(i: int, rule: str) -> None:
        fired.setdefault(i, []).append(rule)

    for i in np.flatnonzero(np.abs(z) > 3):
        add(int(i), "we1")
    for i in range(2, len(z)):
        window = z[i - 2 : i + 1]
        if (window > 2).sum() >= 2 and z[i] > 2 or (window < -2).sum() >= 2 and z[i] < -2:
            add(i, "we2")
    side = np.sign(z)
    for i in range(7, len(z)):
        window = side[i - 7 : i + 1]
        if window[0] != 0 and (window == window[0]).all():
            add(i, "we4")
    return fired


def control_chart(
    statistic: str,
    timeline: Timeline,
    reference: pd.DataFrame,
    model: Pipeline | None = None,
    baseline_weeks: int = CHART_BASELINE_WEEKS,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> ControlChart:
    """Follow a statistic over the timeline against a centre line and ±3σ limits (Shewhart chart).

    The centre is the mean of the first `baseline_weeks` weeks of production (the chart's reference
    period: the training data itself is a finite sample whose own rate may be a little off). σ, the
    batch-to-batch spread when nothing changes, comes from `n_bootstrap` batches of the same size drawn
    from the training data, widened by the uncertainty of a centre measured on `baseline_weeks` batches.
    """
    predict = statistic == "approval_rate"
    if predict and model is None:
        raise ValueError("approval_rate needs a model")
    ref_pred = predicted_labels(model, reference) if predict else None
    values = np.array(
        [
            batch_statistic(statistic, b, reference, predicted_labels(model, b) if predict else None)
            for b in timeline.batches
        ]
    )
    rng = _rng("bootstrap", statistic, seed)
    size = timeline.batch_size
    kind, _, feature = statistic.partition(":")
    if kind in ("approval_rate", "mean", "missing"):
        if kind == "approval_rate":
            per_row = (ref_pred == POSITIVE).astype(float)
        elif kind == "mean":
            per_row = pd.to_numeric(reference[feature], errors="coerce").to_numpy(float)
        else:
            per_row = reference[feature].isna().to_numpy(float)
        draws = rng.integers(0, len(reference), size=(n_bootstrap, size))
        boot = np.nanmean(per_row[draws], axis=1)
    else:
        boot = np.array(
            [
                batch_statistic(statistic, reference.iloc[rng.integers(0, len(reference), size)], reference, None)
                for _ in range(min(n_bootstrap, 100))
            ]
        )
    k = max(1, min(baseline_weeks, len(values)))
    center = float(np.nanmean(values[:k]))
    sigma = float(np.std(boot, ddof=1)) * math.sqrt(1 + 1 / k)
    signals = {timeline.weeks[i]: rules for i, rules in western_electric(values, center, sigma).items()}
    return ControlChart(statistic, timeline.weeks, values, center, sigma, signals)


def control_chart_figure(chart: ControlChart, lang: str, start_week: int | None = None) -> go.Figure:
    """The statistic per week, centre line, ±3σ limits (and ±2σ dotted), signals in red."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=chart.weeks, y=chart.values, mode="lines+markers", name=statistic_label(chart.statistic, lang),
                             line={"color": "#4c78a8"}))  # fmt: skip
    flagged = sorted(chart.signals)
    if flagged:
        idx = [chart.weeks.index(w) for w in flagged]
        fig.add_trace(
            go.Scatter(
                x=flagged, y=chart.values[idx], mode="markers", name=translate("drift.signal", lang),
                marker={"color": "#d62728", "size": 13, "symbol": "x"},
                text=[", ".join(translate(f"drift.rule_{r}", lang) for r in chart.signals[w]) for w in flagged],
                hovertemplate="%{text}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=chart.center, line_color="gray", annotation_text=translate("drift.center", lang))
    for k, dash in ((3, "dash"), (2, "dot")):
        for sign in (1, -1):
            fig.add_hline(y=chart.center + sign * k * chart.sigma, line_dash=dash, line_color="#e45756" if k == 3 else "#f2a541",
                          **({"annotation_text": f"{'+' if sign > 0 else '−'}{k}σ"} if k == 3 else {}))  # fmt: skip
    if start_week is not None:
        fig.add_vline(x=start_week - 0.5, line_dash="dot", line_color="black",
                      annotation_text=translate("drift.drift_starts", lang))  # fmt: skip
    fig.update_layout(
        title=translate("drift.chart_title", lang, statistic=statistic_label(chart.statistic, lang)),
        xaxis_title=translate("drift.week", lang), height=360, margin={"t": 50, "b": 10, "l": 10, "r": 10},
        showlegend=False,
    )  # fmt: skip
    return localize_figure(fig, lang)


# ----------------------------------------------------------------------------------------------
# Retraining strategies
# ----------------------------------------------------------------------------------------------

STRATEGIES: tuple[str, ...] = ("never", "periodic", "data_drift", "accuracy")


@dataclass(frozen=True)
class StrategyRun:
    """How one retraining strategy did over the timeline."""

    strategy: str
    accuracy: np.ndarray  # per week, of the model in force that week
    retrain_weeks: list[int]

    @property
    def retrainings(self) -> int:
        """How many times the model was retrained."""
        return len(self.retrain_weeks)


@dataclass(frozen=True)
class RetrainingResult:
    """All strategies on the same timeline, with the baseline and the accuracy threshold."""

    runs: dict[str, StrategyRun]
    weeks: list[int]
    baseline: float  # majority-class accuracy on the training data (~0.69)
    threshold: float
    start_week: int
    label_delay: int

    def summary(self, lang: str) -> pd.DataFrame:
        """One row per strategy: retrainings, mean accuracy before/after the drift, weeks under the baseline."""
        rows = []
        after = np.array(self.weeks) >= self.start_week
        for name, run in self.runs.items():
            rows.append(
                {
                    translate("drift.col_strategy", lang): translate(f"drift.strategy_{name}", lang),
                    translate("drift.col_retrainings", lang): run.retrainings,
                    translate("drift.col_weeks", lang): ", ".join(map(str, run.retrain_weeks)),
                    translate("drift.col_acc_before", lang): round(float(run.accuracy[~after].mean()), 3)
                    if (~after).any()
                    else None,
                    translate("drift.col_acc_after", lang): round(float(run.accuracy[after].mean()), 3),
                    translate("drift.col_under_baseline", lang): int((run.accuracy < self.baseline).sum()),
                }
            )
        return pd.DataFrame(rows)


def majority_baseline(frame: pd.DataFrame) -> float:
    """Accuracy of always answering the majority class (≈ 0.69 on the course data)."""
    rate = float((frame[TARGET] == POSITIVE).mean())
    return max(rate, 1 - rate)


def feature_psi(reference: pd.Series, current: pd.Series, kind: str | None = None) -> float:
    """PSI (CSI) of one feature alone, missing values excluded (the cheap path of `compare_feature`)."""
    kind = kind or _kind_of(str(reference.name), reference)
    if kind == "numeric":
        ref_counts, cur_counts = binned_counts(
            reference.dropna().to_numpy(float), pd.to_numeric(current, errors="coerce").dropna().to_numpy(float)
        )
    else:
        _, ref_counts, cur_counts = category_counts(reference, current)
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        return float("nan")
    return psi(proportions(ref_counts), proportions(cur_counts))


def max_psi(training: pd.DataFrame, batch: pd.DataFrame) -> float:
    """The largest PSI over the 11 features (the data-drift retraining trigger)."""
    return float(np.nanmax([feature_psi(training[f], batch[f], _kind_of(f, training[f])) for f in FEATURES]))


def simulate_retraining(
    timeline: Timeline,
    reference: pd.DataFrame,
    *,
    strategies: tuple[str, ...] = STRATEGIES,
    label_delay: int = 2,
    period: int = 4,
    window: int = 4,
    margin: float = 0.05,
    threshold: float | None = None,
    psi_threshold: float = THRESHOLDS["psi"],
    model_name: str = "logistic_regression",
    progress=None,
) -> RetrainingResult:
    """Replay the timeline under each retraining strategy.

    At the start of week w a strategy may retrain on the labelled batches it has: labels of week v
    arrive after `label_delay` weeks, so only weeks ≤ w − 1 − label_delay are usable (the last `window`
    of them). `never` keeps the first model; `periodic` retrains every `period` weeks; `data_drift`
    retrains when the last batch's largest PSI against the model's training data reaches
    `psi_threshold`; `accuracy` retrains when the newest accuracy it can measure is below the threshold
    (default: majority baseline + `margin`).

    Args:
        progress: optional callable(done, total) called after each strategy.
    """
    weeks = timeline.weeks
    baseline = majority_baseline(reference)
    threshold = baseline + margin if threshold is None else threshold
    first = fit_model(reference, model_name)
    truths = [b[TARGET].to_numpy() for b in timeline.batches]
    sizes = np.cumsum([len(b) for b in timeline.batches])[:-1]

    def decisions(model: Pipeline, from_index: int) -> dict[int, np.ndarray]:
        """The model's decisions for every batch from `from_index` on (one call: sklearn overhead is per call)."""
        rest = pd.concat(timeline.batches[from_index:], ignore_index=True)
        parts = np.split(
            predicted_labels(model, rest), sizes[from_index:] - sizes[from_index - 1] if from_index else sizes
        )
        return dict(zip(range(from_index, len(weeks)), parts))

    first_decisions = decisions(first, 0)
    runs: dict[str, StrategyRun] = {}
    for done, strategy in enumerate(strategies, start=1):
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}")
        training, trained_at, current = reference, 0, first_decisions
        accuracy = np.zeros(len(weeks))
        retrained: list[int] = []
        for i, week in enumerate(weeks):
            last_labelled = week - 1 - label_delay
            usable = list(range(max(1, last_labelled - window + 1), last_labelled + 1))
            retrain = False
            if strategy == "periodic" and week > 1 and (week - 1) % period == 0:
                retrain = True
            elif strategy == "data_drift" and week > 1:
                retrain = max_psi(training, timeline.batches[i - 1]) >= psi_threshold
            elif strategy == "accuracy" and last_labelled >= 1 and last_labelled > trained_at:
                retrain = accuracy[last_labelled - 1] < threshold
            if retrain and usable:
                training = pd.concat([timeline.batches[w - 1] for w in usable], ignore_index=True)
                current, trained_at = decisions(fit_model(training, model_name), i), week - 1
                retrained.append(week)
            accuracy[i] = float(np.mean(current[i] == truths[i]))
        runs[strategy] = StrategyRun(strategy, accuracy, retrained)
        if progress is not None:
            progress(done, len(strategies))
    return RetrainingResult(runs, weeks, baseline, threshold, timeline.start_week, label_delay)


def retraining_figure(result: RetrainingResult, lang: str, course_threshold: float = 0.68) -> go.Figure:
    """Accuracy per week of every strategy, retrainings marked, with the baseline and both thresholds."""
    import plotly.graph_objects as go

    colors = {"never": "#7f7f7f", "periodic": "#4c78a8", "data_drift": "#f58518", "accuracy": "#54a24b"}
    fig = go.Figure()
    for name, run in result.runs.items():
        label = translate(f"drift.strategy_{name}", lang)
        fig.add_trace(go.Scatter(x=result.weeks, y=run.accuracy, mode="lines+markers", name=label,
                                 line={"color": colors[name], "dash": "dash" if name == "data_drift" else "solid",
                                       "width": 4 if name == "never" else 2}))  # fmt: skip
        if run.retrain_weeks:
            fig.add_trace(
                go.Scatter(
                    x=run.retrain_weeks, y=[run.accuracy[w - 1] for w in run.retrain_weeks], mode="markers",
                    marker={"symbol": "triangle-up", "size": 12, "color": colors[name]}, showlegend=False,
                    hovertemplate=translate("drift.retrained_hover", lang, strategy=label) + "<extra></extra>",
                )
            )  # fmt: skip
    fig.add_hline(y=result.baseline, line_color="black", line_dash="dot",
                  annotation_text=translate("drift.baseline_line", lang, value=result.baseline),
                  annotation_position="bottom left")  # fmt: skip
    fig.add_hline(y=result.threshold, line_color="#54a24b", line_dash="dash",
                  annotation_text=translate("drift.threshold_line", lang, value=result.threshold))  # fmt: skip
    fig.add_hline(y=course_threshold, line_color="#d62728", line_dash="dash",
                  annotation_text=translate("drift.course_threshold_line", lang, value=course_threshold),
                  annotation_position="bottom right")  # fmt: skip
    fig.add_vline(x=result.start_week - 0.5, line_dash="dot", line_color="black",
                  annotation_text=translate("drift.drift_starts", lang))  # fmt: skip
    fig.update_layout(
        title=translate("drift.retrain_title", lang, delay=result.label_delay),
        xaxis_title=translate("drift.week", lang), yaxis_title=translate("drift.accuracy", lang),
        height=420, margin={"t": 50, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return localize_figure(fig, lang)


def retraining_code(kind: str, strength: float, start_week: int, delay: int, margin: float, seed: int = 0) -> str:
    """The simulation as plain code (the same core functions the page calls)."""
    return f"""from workbench.data import load_course_data
from workbench.drift import simulate_retraining, simulate_timeline

reference = load_course_data()
timeline = simulate_timeline({kind!r}, {strength!r}, weeks=20, start_week={start_week}, batch_size=200, seed={seed})
result = simulate_retraining(timeline, reference, label_delay={delay}, period=4, window=4, margin={margin!r})
print(f"majority baseline {{result.baseline:.3f}}, alert threshold {{result.threshold:.3f}}")
for name, run in result.runs.items():
    print(f"{{name:<10}} retrained {{run.retrainings}}x at weeks {{run.retrain_weeks}}, "
          f"mean accuracy after the drift {{run.accuracy[{start_week - 1}:].mean():.3f}}")
"""


# ----------------------------------------------------------------------------------------------
# Evidently
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidentlyResult:
    """An Evidently DataDriftPreset report: its HTML and a per-column table."""

    html: str
    table: pd.DataFrame  # column, method, threshold, score, drift
    share_drifted: float
    dataset_drift: bool
    seconds: float


def evidently_test(feature: FeatureDrift) -> str:
    """Our statistic that Evidently can be configured to compute for this feature's decision.

    The same test, except for a chi-square decision on more than two categories: Evidently has no
    two-sample chi-square, only the goodness-of-fit one (`chi2_gof`)."""
    if feature.decision == "chi2" and feature.n_values > 2:
        return "chi2_gof"
    return feature.decision


def evidently_config(report: DriftReport) -> tuple[dict[str, str], dict[str, float]]:
    """Per-column methods and thresholds that make Evidently decide with our decision tests (see `evidently_test`).

    Our JS is the divergence; Evidently's is the distance (its square root), so its threshold is √t.
    """
    methods, thresholds = {}, {}
    for f in report.features:
        name = evidently_test(f)
        methods[f.feature] = EVIDENTLY_METHODS[name]
        threshold = f.stats[name].threshold
        thresholds[f.feature] = math.sqrt(threshold) if name == "js" else threshold
    return methods, thresholds


def evidently_comparison(report: DriftReport, evidently: pd.DataFrame) -> pd.DataFrame:
    """Evidently's verdict per column beside ours: the same test computed here, and our deciding test.

    Args:
        report: our statistics on the same pair.
        evidently: `EvidentlyResult.table` (column, method, threshold, score, drift).

    Returns:
        One row per column: Evidently's `method`, `threshold`, `score`, `drift`; `same_test` (our statistic
        computing what that method computes, None if none does), `same_score` (on Evidently's scale: the JS
        distance, not the divergence), `same_drift`; our `decision` test and its `decision_drift`.
    """
    rows = []
    for row in evidently.to_dict("records"):
        feature = report[row["column"]]
        same = SAME_AS_EVIDENTLY.get(str(row["method"]))
        if same == "chi2" and feature.n_values > 2:  # Evidently's Z test only equals χ² for two categories
            same = None
        result = feature.stats.get(same) if same else None
        score = float("nan") if result is None else (math.sqrt(result.value) if same == "js" else result.value)
        rows.append(
            {**row, "same_test": same if result is not None else None, "same_score": score,
             "same_drift": None if result is None else result.drift, "decision": feature.decision,
             "decision_drift": feature.stats[feature.decision].drift}
        )  # fmt: skip
    return pd.DataFrame(rows)


def evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str] | tuple[str, ...] | None = None,
    methods: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    drift_share: float = 0.5,
    html: bool = True,
) -> EvidentlyResult:
    """Run Evidently's DataDriftPreset (evidently ≥ 0.7 API) on the pair.

    Numeric columns with few values (Credit_History, Loan_Amount_Term) are declared categorical, as
    our statistics treat them. Evidently drops missing values before its tests.

    Args:
        methods, thresholds: per-column Evidently method names and thresholds (default: Evidently's choice).
        html: also render the HTML report (the slow part is the import and the run, not this).
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.calculations import stattests
    from evidently.presets import DataDriftPreset

    # a method Evidently picked itself is reported by its display name ("K-S p_value"): back to its id ("ks")
    method_ids = {test.display_name: test.name for test in vars(stattests).values() if hasattr(test, "display_name")}
    start = time.perf_counter()
    columns = list(columns or [c for c in COLUMNS if c in reference.columns and c in current.columns])
    numeric = [c for c in columns if _kind_of(c, reference[c]) == "numeric"]
    categorical = [c for c in columns if c not in numeric]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    ref = Dataset.from_pandas(reference[columns], data_definition=definition)
    cur = Dataset.from_pandas(current[columns], data_definition=definition)
    preset = DataDriftPreset(
        columns=columns, drift_share=drift_share, per_column_method=methods or None,
        per_column_threshold=thresholds or None,
    )  # fmt: skip
    snapshot = Report([preset], include_tests=True).run(reference_data=ref, current_data=cur)
    data = snapshot.dict()
    status = {
        t["metric_config"]["metric_id"]: t["status"] == "FAIL"
        for t in data.get("tests", [])
        if t["metric_config"]["params"].get("type", "").endswith("ValueDrift")
    }
    rows, share = [], 0.0
    for metric in data["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            rows.append(
                {"column": config["column"], "method": method_ids.get(config.get("method"), config.get("method")),
                 "threshold": config.get("threshold"),
                 "score": float(metric["value"]), "drift": bool(status.get(metric["id"], False))}
            )  # fmt: skip
        elif config["type"].endswith("DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    page = snapshot.get_html_str(as_iframe=False) if html else ""
    return EvidentlyResult(page, pd.DataFrame(rows), share, share >= drift_share, time.perf_counter() - start)


def evidently_code(kind: str, strength: float, feature: str | None, seed: int) -> str:
    """The Evidently report as plain code (Evidently 0.7 API)."""
    return f"""from evidently import Report
from evidently.presets import DataDriftPreset
from workbench.data import load_course_data
from workbench.drift import apply_drift, simulate_batch

reference = load_course_data().drop(columns="Loan_ID")
current = apply_drift(simulate_batch(len(reference), seed={seed}), {kind!r}, {strength!r},
                      feature={feature!r}, seed={seed}).drop(columns="Loan_ID")

report = Report([DataDriftPreset()], include_tests=True)
snapshot = report.run(reference_data=reference, current_data=current)
snapshot.save_html("drift_report.html")
for metric in snapshot.dict()["metrics"]:
    print(metric["metric_name"], metric["value"])
"""


# ----------------------------------------------------------------------------------------------
# Hands-on exercises: answers saved per learner, checks that recompute
# ----------------------------------------------------------------------------------------------

ANSWERS_FILE = "drift_answers.json"
CATEGORICAL_TEST_CHOICES: tuple[str, ...] = ("ks", "chi2", "wasserstein", "t_test")
RIGHT_CATEGORICAL_TEST = "chi2"


def answers_path(settings: Settings, learner: str) -> Path:
    """Where a learner's chapter-X answers are saved."""
    return settings.learner_dir(learner) / ANSWERS_FILE


def load_answers(settings: Settings, learner: str) -> dict:
    """The learner's saved answers (empty if none or unreadable)."""
    data = read_json(answers_path(settings, learner), {})
    return data if isinstance(data, dict) else {}


def save_answer(settings: Settings, learner: str, key: str, value: object) -> dict:
    """Save one answer (atomically replacing the file); returns every saved answer."""
    return update_json(answers_path(settings, learner), {key: value})


MYSTERY_ROWS = 614


def mystery_feature(learner: str) -> str:
    """The feature that drifts in this learner's mystery batch (a different one per learner)."""
    return FEATURES[int(_rng("mystery", learner.strip().casefold()).integers(0, len(FEATURES)))]


def mystery_batch(learner: str, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """This learner's mystery batch: new applicants where exactly one feature drifted.

    With the reference, the first of the learner's batches where no other feature crosses its threshold by
    chance is used (at 5 % per test, one batch in two would otherwise show a false alarm): the exercise has
    one answer.
    """
    feature = mystery_feature(learner)
    key = learner.strip().casefold()
    for attempt in range(20):
        seed = _seed("mystery-batch", key) if attempt == 0 else _seed("mystery-batch", key, attempt)
        batch = simulate_batch(MYSTERY_ROWS, seed=seed)
        if feature in CONTINUOUS:
            batch = apply_drift(batch, "shift", 0.6, feature=feature, seed=seed)
        else:
            batch = apply_drift(batch, "category_mix", 0.35, feature=feature, seed=seed)
        if reference is None or compare_frames(reference, batch, columns=list(FEATURES)).drifted == [feature]:
            break
    return batch


THRESHOLD_FEATURE = "ApplicantIncome"
THRESHOLD_STRENGTH = 0.15
THRESHOLD_GAP = 0.03  # the learner's timeline leaves at least this room between the last calm week and the drift


def threshold_exercise(learner: str, reference: pd.DataFrame) -> tuple[Timeline, np.ndarray]:
    """The learner's threshold exercise: a timeline where ApplicantIncome shifts slightly from a
    learner-specific week, and its PSI per week.

    The first seeds whose timeline leaves a solvable gap (a threshold that fires at the drift's week and
    never before) are used, so every learner gets a fair, different exercise; the drift is slight enough
    that the textbook PSI threshold (0.25, the slider's start) misses its first week: the learner has to
    read their own timeline.
    """
    key = learner.strip().casefold()
    start = int(_rng("threshold-start", key).integers(8, 15))
    for attempt in range(200):
        timeline = simulate_timeline(
            "shift", THRESHOLD_STRENGTH, feature=THRESHOLD_FEATURE, weeks=20, start_week=start, batch_size=200,
            seed=_seed("thr", key, attempt),
        )  # fmt: skip
        values = np.array([feature_psi(reference[THRESHOLD_FEATURE], b[THRESHOLD_FEATURE]) for b in timeline.batches])
        if values[start - 1] - values[: start - 1].max() >= THRESHOLD_GAP and values[start - 1] < THRESHOLDS["psi"]:
            break
    return timeline, values


def threshold_psi(learner: str, reference: pd.DataFrame) -> np.ndarray:
    """PSI of ApplicantIncome per week of the learner's threshold timeline."""
    return threshold_exercise(learner, reference)[1]


def alarm_weeks(values: np.ndarray, threshold: float) -> list[int]:
    """Weeks (from 1) where the value reaches the threshold."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(values) >= threshold)]


def _reference(ctx: CheckContext) -> pd.DataFrame:
    from workbench.data import load_course_data

    return load_course_data(ctx.settings.data_path)


def check_mystery_feature(ctx: CheckContext) -> CheckResult:
    """Passed when the saved answer names the feature that drifted in the learner's mystery batch."""
    answer = load_answers(ctx.settings, ctx.learner).get("mystery_feature")
    if not answer:
        return CheckResult(False, (translate("drift.check_no_mystery", ctx.lang),))
    truth = mystery_feature(ctx.learner)
    evidence = {"answer": answer}
    if answer == truth:
        return CheckResult(True, detail=translate("drift.check_mystery_ok", ctx.lang, feature=truth), evidence=evidence)
    return CheckResult(False, (translate("drift.check_mystery_wrong", ctx.lang, feature=answer),), evidence=evidence)


def check_categorical_test(ctx: CheckContext) -> CheckResult:
    """Passed when the learner chose the chi-square test for a categorical feature."""
    answer = load_answers(ctx.settings, ctx.learner).get("categorical_test")
    if not answer:
        return CheckResult(False, (translate("drift.check_no_test", ctx.lang),))
    evidence = {"answer": answer}
    if answer == RIGHT_CATEGORICAL_TEST:
        return CheckResult(True, detail=translate("drift.check_test_ok", ctx.lang), evidence=evidence)
    why = translate(f"drift.check_test_why_{answer}", ctx.lang)
    return CheckResult(False, (why,), evidence=evidence)


def check_alert_threshold(ctx: CheckContext) -> CheckResult:
    """Passed when the saved PSI threshold first alarms at the drift's week, with no false alarm before."""
    answer = load_answers(ctx.settings, ctx.learner).get("psi_threshold")
    if answer is None:
        return CheckResult(False, (translate("drift.check_no_threshold", ctx.lang),))
    threshold = float(answer)
    timeline, values = threshold_exercise(ctx.learner, _reference(ctx))
    start = timeline.start_week
    alarms = alarm_weeks(values, threshold)
    evidence = {"threshold": threshold, "start_week": start, "alarms": alarms}
    early = [w for w in alarms if w < start]
    if early:
        message = translate("drift.check_false_alarm", ctx.lang, weeks=", ".join(map(str, early)), start=start)
        return CheckResult(False, (message,), evidence=evidence)
    if start not in alarms:
        return CheckResult(False, (translate("drift.check_missed", ctx.lang, start=start),), evidence=evidence)
    detail = translate("drift.check_threshold_ok", ctx.lang, threshold=threshold, start=start)
    return CheckResult(True, detail=detail, evidence=evidence)
