"""Drift statistics: PSI, KS, chi-square, Wasserstein, Jensen-Shannon, per feature and per batch."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.core.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    TARGET,
)
from workbench.core.formatting import localize_figure, percent_axis
from workbench.core.i18n import translate

if TYPE_CHECKING:
    import plotly.graph_objects as go

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
            {
                "feature": f.feature,
                "kind": f.kind,
                "statistic": s.name,
                "value": s.value,
                "threshold": s.threshold,
                "drift": s.drift,
                "decision": s.name == f.decision,
                "detail": s.detail,
            }
            for f in self.features
            for s in f.stats.values()
        ]
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
        feature=str(reference.name),
        kind=kind,
        n_reference=len(reference) - miss_r,
        n_current=len(current) - miss_c,
        missing_reference=miss_ref,
        missing_current=miss_cur,
        new_categories=new,
        stats=stats,
        decision=decision or decision_statistic(kind, len(reference) - miss_r),
        n_values=0 if kind == "numeric" else int(((ref_counts + cur_counts) > 0).sum()),
    )


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
from workbench.core.data import load_course_data
from workbench.chapters.ch10_monitoring.drift import apply_drift, simulate_batch

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
            fig.add_trace(
                go.Bar(
                    x=centers,
                    y=proportions(counts.astype(float)),
                    name=name,
                    marker_color=color,
                    opacity=0.6,
                    width=np.diff(edges),
                )
            )
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
        yaxis_title=translate("drift.share", lang),
        height=360,
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    )
    shares = [v for trace in fig.data for v in trace.y]
    fig.update_yaxes(**percent_axis(0.0, max(shares, default=0.01), lang))
    return localize_figure(fig, lang)
