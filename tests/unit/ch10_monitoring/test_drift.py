"""Drift statistics (cross-checked against SciPy and Evidently), simulations, control charts, retraining, checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, entropy, ks_2samp, wasserstein_distance
from workbench.chapters.ch10_monitoring import drift
from workbench.core.data import FEATURES, TARGET, generate_loan_data, load_course_data
from workbench.core.exercises import CheckContext
from workbench.core.records import records_for
from workbench.core.settings import get_settings

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return load_course_data()


def _ctx(learner: str = "ana", lang: str = "en") -> CheckContext:
    return CheckContext(learner, lang, get_settings())


# ---------------------------------------------------------------------------- statistics


def test_psi_known_value_and_symmetry() -> None:
    r, c = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert drift.psi(r, c) == pytest.approx(expected, rel=1e-3)
    assert drift.psi(r, c) == pytest.approx(drift.psi(c, r), rel=1e-3)
    assert drift.psi(r, r) == 0.0
    # PSI is the sum of both KL directions
    assert drift.psi(r, c) == pytest.approx(drift.kl_divergence(r, c) + drift.kl_divergence(c, r))


def test_empty_bins_are_smoothed_with_epsilon() -> None:
    r, c = np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2])
    value = drift.psi(r, c)
    assert math.isfinite(value) and value > 1.0  # a new bin weighs a lot
    smoothed = np.array([0.5, 0.5, 1e-4]) / 1.0001
    assert drift.kl_divergence(c, r) == pytest.approx(entropy(c, smoothed))


@pytest.mark.parametrize(
    ("p", "q"), [([1, 2, 3], [3, 2, 1]), ([10, 0, 5], [1, 1, 1]), ([0.2, 0.8], [0.9, 0.1]), ([1, 1], [1, 1])]
)
def test_kl_and_js_agree_with_scipy(p, q) -> None:
    p, q = np.array(p, float), np.array(q, float)
    assert drift.js_divergence(p, q) == pytest.approx(jensenshannon(p, q) ** 2, abs=1e-12)
    assert drift.js_divergence(p, q) <= math.log(2)
    assert drift.kl_divergence(p, q) == pytest.approx(entropy(drift.smooth(p / p.sum()), drift.smooth(q / q.sum())))


def test_chi_square_agrees_with_chi2_contingency() -> None:
    ref, cur = np.array([200, 233, 181]), np.array([150, 160, 304])
    statistic, p = drift.chi_square(ref, cur)
    expected = chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert statistic == pytest.approx(expected.statistic) and p == pytest.approx(expected.pvalue)
    assert drift.chi_square(np.array([10]), np.array([5])) == (0.0, 1.0)  # one category: nothing to test


@pytest.mark.parametrize("n", [300, 20_000])
def test_ks_and_wasserstein_agree_with_scipy(n: int) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, n), rng.normal(0.05, 1.1, n + 7)
    d, p = drift.ks_test(a, b)
    expected = ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue, rel=0.02, abs=1e-12)
    raw, normed = drift.wasserstein(a, b)
    assert raw == pytest.approx(wasserstein_distance(a, b))
    assert normed == pytest.approx(raw / np.std(a))


def test_quantile_bins_match_numpy() -> None:
    x = np.arange(1, 101, dtype=float)
    np.testing.assert_allclose(drift.quantile_edges(x), np.quantile(x, np.linspace(0.1, 0.9, 9)))
    ref, cur = drift.binned_counts(x, np.array([0.0, 50.5, 55.0, 1000.0]))  # bins are (a, b]
    assert ref.tolist() == [10] * 10 and cur.tolist() == [1, 0, 0, 0, 1, 1, 0, 0, 0, 1]


def test_compare_feature_numeric_values_match_scipy(reference) -> None:
    current = drift.apply_drift(drift.simulate_batch(614, 3), "shift", 0.5, feature="ApplicantIncome")
    result = drift.compare_feature(reference["ApplicantIncome"], current["ApplicantIncome"])
    assert result.kind == "numeric" and result.decision == "ks"
    r, c = reference["ApplicantIncome"].dropna(), current["ApplicantIncome"].dropna()
    assert result.stats["ks"].value == pytest.approx(ks_2samp(r, c).pvalue)
    assert result.stats["wasserstein"].value == pytest.approx(wasserstein_distance(r, c) / np.std(r))
    assert result.stats["psi"].value > 0.25 and result.drift
    assert "chi2" not in result.stats


def test_compare_feature_categorical_unseen_category(reference) -> None:
    current = drift.apply_drift(drift.simulate_batch(614, 4), "new_category", 0.2, feature="Property_Area")
    result = drift.compare_feature(reference["Property_Area"], current["Property_Area"])
    assert result.kind == "categorical" and result.new_categories == ("Periurban",)
    assert result.drift and result.stats["chi2"].drift and result.stats["psi"].value > 1
    labels, ref_counts, cur_counts = drift.category_counts(reference["Property_Area"], current["Property_Area"])
    assert labels[-1] == "Periurban" and ref_counts[-1] == 0 and cur_counts[-1] > 0
    p = chi2_contingency(np.vstack([ref_counts, cur_counts]), correction=False).pvalue
    assert result.stats["chi2"].value == pytest.approx(p)
    assert result.stats["js"].value == pytest.approx(jensenshannon(ref_counts, cur_counts) ** 2)


def test_constant_and_empty_columns_give_no_false_drift() -> None:
    constant = pd.Series([5.0] * 50, name="x")
    result = drift.compare_feature(constant, constant.copy(), kind="numeric")
    assert not result.drift and result.stats["psi"].value == 0 and result.stats["ks"].value == 1.0
    assert result.stats["wasserstein"].value == 0
    empty = drift.compare_feature(constant, pd.Series([np.nan] * 10, name="x"), kind="numeric")
    assert math.isnan(empty.stats["psi"].value) and not empty.stats["psi"].drift
    assert empty.stats["missing"].drift and empty.drift  # everything went missing


def test_missing_spike_is_seen_only_by_the_missing_column(reference) -> None:
    current = drift.apply_drift(drift.simulate_batch(614, 5), "missing_spike", 0.4, feature="Credit_History")
    result = drift.compare_feature(reference["Credit_History"], current["Credit_History"])
    assert result.kind == "discrete"
    assert result.missing_current == pytest.approx(current["Credit_History"].isna().mean())
    assert result.stats["missing"].drift and result.drift
    assert not result.stats[result.decision].drift  # the tests ignore missing values


def test_compare_frames_on_a_fresh_sample_finds_nothing(reference) -> None:
    report = drift.compare_frames(reference, drift.simulate_batch(614, 11))
    assert [f.feature for f in report.features] == [*FEATURES, TARGET]
    assert report.drifted == []
    table = report.long_table()
    assert set(table["statistic"]) == {"psi", "kl", "js", "ks", "chi2", "chi2_gof", "wasserstein", "missing"}
    wide, mask = drift.wide_table(report, "fr")
    assert wide.shape == mask.shape and list(wide["Verdict"]) == ["✅ stable"] * 12


def test_compare_frames_rejects_bad_input(reference) -> None:
    with pytest.raises(ValueError, match="missing from one of the frames"):
        drift.compare_frames(reference, reference.drop(columns="Gender"), columns=["Gender"])
    with pytest.raises(ValueError, match="at least one row"):
        drift.compare_frames(reference, reference.head(0))


# ---------------------------------------------------------------------------- simulations


@pytest.mark.parametrize(
    ("kind", "feature", "expected"),
    [
        ("shift", "LoanAmount", {"LoanAmount"}),
        ("scale", "ApplicantIncome", {"ApplicantIncome"}),
        ("category_mix", "Education", {"Education"}),
        ("new_category", "Dependents", {"Dependents"}),
        ("missing_spike", "Self_Employed", {"Self_Employed"}),
        ("unit_change", None, {"LoanAmount"}),
        ("concept", None, set()),
    ],
)
def test_each_drift_kind_is_detected_where_it_acts(reference, kind, feature, expected) -> None:
    fresh = drift.simulate_batch(614, 21)
    chance = set(drift.compare_frames(reference, fresh, columns=list(FEATURES)).drifted)
    assert len(chance) <= 1  # new applicants, no drift: at most one false alarm at the 5 % level
    current = drift.apply_drift(fresh, kind, drift.DEFAULT_STRENGTH[kind], feature=feature)
    assert set(drift.compare_frames(reference, current, columns=list(FEATURES)).drifted) == chance | expected


def test_unit_change_multiplies_loan_amount_by_1000() -> None:
    batch = drift.simulate_batch(100, 1)
    out = drift.apply_drift(batch, "unit_change", 1.0)
    pd.testing.assert_series_equal(out["LoanAmount"], batch["LoanAmount"] * 1000)
    assert batch["LoanAmount"].max() < 1000  # the input was not touched


def test_prediction_drift_moves_the_approval_rate(reference) -> None:
    model = drift.fit_model(reference)
    batch = drift.simulate_batch(614, 2)
    drifted = drift.apply_drift(batch, "prediction", 0.5)
    before, after = (np.mean(drift.predicted_labels(model, b) == "Y") for b in (batch, drifted))
    assert after < before - 0.15
    report = drift.compare_frames(
        drift.with_predictions(model, batch), drift.with_predictions(model, drifted), columns=["prediction"]
    )
    assert report.drifted == ["prediction"]


def test_concept_drift_keeps_inputs_and_label_rate(reference) -> None:
    batch = drift.simulate_batch(2000, 3)
    drifted = drift.apply_drift(batch, "concept", 1.0)
    pd.testing.assert_frame_equal(drifted[list(FEATURES)], batch[list(FEATURES)])
    assert (drifted[TARGET] == "Y").mean() == pytest.approx(0.69, abs=0.02)
    model = drift.fit_model(reference)
    accuracy = np.mean(drift.predicted_labels(model, drifted) == drifted[TARGET])
    assert accuracy < drift.majority_baseline(reference)  # worse than always answering Y


def test_apply_drift_rejects_bad_arguments() -> None:
    batch = drift.simulate_batch(10, 1)
    with pytest.raises(ValueError, match="unknown drift kind"):
        drift.apply_drift(batch, "earthquake", 1)
    with pytest.raises(ValueError, match="cannot act on"):
        drift.apply_drift(batch, "shift", 1, feature="Gender")


def test_timeline_is_deterministic_and_drifts_from_its_start() -> None:
    a = drift.simulate_timeline("unit_change", 1.0, weeks=6, start_week=4, batch_size=50, seed=7)
    b = drift.simulate_timeline("unit_change", 1.0, weeks=6, start_week=4, batch_size=50, seed=7)
    c = drift.simulate_timeline("unit_change", 1.0, weeks=6, start_week=4, batch_size=50, seed=8)
    for x, y in zip(a.batches, b.batches):
        pd.testing.assert_frame_equal(x, y)
    assert not a.batches[0].equals(c.batches[0])
    assert [bool(batch["LoanAmount"].max() > 1000) for batch in a.batches] == [False] * 3 + [True] * 3
    assert a.weeks == [1, 2, 3, 4, 5, 6] and all(len(batch) == 50 for batch in a.batches)
    with pytest.raises(ValueError):
        drift.simulate_timeline("shift", weeks=5, start_week=9)


# ---------------------------------------------------------------------------- control charts


def test_western_electric_rules() -> None:
    values = np.array([0, 0.5, -0.5, 3.5, 0, 0, 2.5, 0.1, 2.2, 0, 0])
    fired = drift.western_electric(values, center=0.0, sigma=1.0)
    assert fired == {3: ["we1"], 8: ["we2"]}  # 2 of 3 beyond 2σ on the same side: positions 6 and 8
    run = drift.western_electric(np.array([0.5] * 8), 0.0, 1.0)
    assert run == {7: ["we4"]}
    assert drift.western_electric(np.zeros(10), 0.0, 1.0) == {}


def test_control_chart_flags_the_unit_change_at_its_week(reference) -> None:
    timeline = drift.simulate_timeline("unit_change", 1.0, weeks=12, start_week=7, seed=3)
    chart = drift.control_chart("mean:LoanAmount", timeline, reference)
    assert chart.first_signal == 7 and chart.signals[7][0] == "we1"
    assert chart.lower < chart.center < chart.upper and chart.sigma > 0
    assert reference["LoanAmount"].mean() == pytest.approx(chart.center, rel=0.05)
    fig = drift.control_chart_figure(chart, "en", 7)
    assert fig.layout.title.text.startswith("Control chart: Mean of LoanAmount")


def test_approval_rate_chart_needs_a_model(reference) -> None:
    timeline = drift.simulate_timeline("prediction", 0.6, weeks=10, start_week=6, seed=1)
    with pytest.raises(ValueError, match="needs a model"):
        drift.control_chart("approval_rate", timeline, reference)
    chart = drift.control_chart("approval_rate", timeline, reference, drift.fit_model(reference))
    assert chart.first_signal is not None and chart.first_signal >= 6
    assert chart.values[5:].mean() < chart.center - 2 * chart.sigma


# ---------------------------------------------------------------------------- retraining


def test_retraining_strategies_under_concept_drift(reference) -> None:
    timeline = drift.simulate_timeline("concept", 1.0, weeks=14, start_week=6, seed=0)
    calls = []
    result = drift.simulate_retraining(
        timeline, reference, label_delay=2, margin=0.05, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (4, 4)
    assert result.baseline == pytest.approx(drift.majority_baseline(reference))
    assert result.threshold == pytest.approx(result.baseline + 0.05)
    never, periodic = result.runs["never"], result.runs["periodic"]
    on_drift, on_accuracy = result.runs["data_drift"], result.runs["accuracy"]
    assert never.retrainings == 0 and periodic.retrain_weeks == [5, 9, 13]
    assert on_drift.retrainings == 0  # the inputs never move: only accuracy reveals concept drift
    assert on_accuracy.retrainings >= 1 and on_accuracy.retrain_weeks[0] >= 6 + 2 + 1  # labels arrive late
    after = slice(11, 14)
    assert on_accuracy.accuracy[after].mean() > never.accuracy[after].mean() + 0.05
    assert never.accuracy[:5].mean() > result.baseline
    summary = result.summary("en")
    assert list(summary["Retrainings"]) == [0, 3, 0, on_accuracy.retrainings]
    assert drift.retraining_figure(result, "fr").layout.xaxis.title.text == "Semaine"


def test_data_drift_trigger_fires_on_a_unit_change(reference) -> None:
    timeline = drift.simulate_timeline("unit_change", 1.0, weeks=10, start_week=5, seed=2)
    result = drift.simulate_retraining(timeline, reference, strategies=("data_drift",), label_delay=1)
    assert result.runs["data_drift"].retrain_weeks[0] == 6  # batch 5 drifted, seen at the start of week 6
    with pytest.raises(ValueError, match="unknown strategy"):
        drift.simulate_retraining(timeline, reference, strategies=("yearly",))


def test_generated_code_runs(tmp_path, reference) -> None:
    code = drift.retraining_code("unit_change", 1.0, 10, 2, 0.05)
    assert "simulate_retraining" in code
    compiled = drift.compare_code("shift", 0.5, "ApplicantIncome", 3)
    namespace: dict = {}
    exec(compile(compiled, "compare_code", "exec"), namespace)  # noqa: S102 - our own generated code
    assert namespace["psi"](reference["ApplicantIncome"], reference["ApplicantIncome"]) == pytest.approx(0)


# ---------------------------------------------------------------------------- Evidently


@pytest.fixture(scope="module")
def evidently_pairs(reference):
    fresh = drift.simulate_batch(614, 31)
    return {
        "fresh": fresh,
        "unit": drift.apply_drift(fresh, "unit_change", 1.0),
        "three": drift.apply_drift(
            drift.apply_drift(
                drift.apply_drift(fresh, "shift", 0.6, feature="CoapplicantIncome"),
                "category_mix",
                0.4,
                feature="Married",
            ),
            "category_mix",
            0.4,
            feature="Credit_History",
        ),
    }


def test_evidently_agrees_with_our_verdicts(reference, evidently_pairs) -> None:
    """Configured with our tests, Evidently's verdicts are those of the same tests computed here; where our
    deciding chi-square (two samples) and Evidently's (goodness of fit) differ, the table says which is which."""
    flagged = {}
    for name, current in evidently_pairs.items():
        ours = drift.compare_frames(reference, current)
        methods, thresholds = drift.evidently_config(ours)
        result = drift.evidently_report(reference, current, methods=methods, thresholds=thresholds, html=False)
        assert list(result.table["column"]) == [f.feature for f in ours.features]
        table = drift.evidently_comparison(ours, result.table)
        assert table["same_test"].notna().all()
        assert (table["drift"] == table["same_drift"]).all(), (name, table)
        assert np.allclose(table["score"], table["same_score"], rtol=1e-6, atol=1e-12, equal_nan=True), table
        binary = table[table["method"] == "z"]  # two categories: Evidently's Z test is our deciding χ²
        assert set(binary["same_test"]) <= {"chi2"} and (binary["decision_drift"] == binary["drift"]).all()
        flagged[name] = sorted(result.table.loc[result.table["drift"], "column"])
    # the drifted batches are the fresh one with some columns changed: exactly those columns are added
    assert set(flagged["unit"]) == set(flagged["fresh"]) | {"LoanAmount"}
    assert set(flagged["three"]) == set(flagged["fresh"]) | {"CoapplicantIncome", "Credit_History", "Married"}
    assert len(flagged["fresh"]) <= 1  # new applicants with no drift: at most a false alarm at the 5 % level


def _parity_pairs() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Reference/current pairs of every shape: the original course files when present, generated frames."""
    pairs: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    original = REPO_ROOT.parent / "shared" / "datasets" / "loan-course"
    if (original / "train.csv").exists():
        from workbench.core.data import read_loan_csv

        train = read_loan_csv(original / "train.csv").frame.drop(columns="Loan_ID")
        test = read_loan_csv(original / "test.csv").frame.drop(columns="Loan_ID")
        first, second = train.iloc[: len(train) // 2], train.iloc[len(train) // 2 :].reset_index(drop=True)
        pairs |= {
            "train-vs-test": (train[list(FEATURES)], test[list(FEATURES)]),
            "train-halves": (first, second),
            "halves-area-mix": (first, drift.apply_drift(second, "category_mix", 0.15, feature="Property_Area")),
            "halves-dependents-mix": (first, drift.apply_drift(second, "category_mix", 0.1, feature="Dependents")),
        }
    twin = generate_loan_data(614, 5)
    small = generate_loan_data(40, 6).drop(columns="Loan_ID")
    big_ref, big_cur = generate_loan_data(2500, 7), generate_loan_data(1800, 8)
    odd = generate_loan_data(300, 9).drop(columns="Loan_ID")
    odd["ApplicantIncome"] = odd["ApplicantIncome"].astype(float)
    odd.loc[:4, "ApplicantIncome"] = np.inf  # Evidently drops ±inf as missing
    pairs |= {
        "small-samples": (generate_loan_data(60, 4).drop(columns="Loan_ID"), small),
        "new-category": (
            twin,
            drift.apply_drift(drift.simulate_batch(614, 4), "new_category", 0.05, feature="Dependents"),
        ),
        "large-samples": (
            big_ref,
            drift.apply_drift(drift.apply_drift(big_cur, "shift", 0.1), "category_mix", 0.05, feature="Property_Area"),
        ),
        "inf-and-constant": (
            odd.assign(Education="Graduate"),
            drift.simulate_batch(250, 6).assign(Education="Graduate"),
        ),
    }
    return pairs


@pytest.mark.parametrize("configured", [True, False], ids=["our-tests", "evidently-defaults"])
def test_evidently_gives_the_verdicts_of_the_same_tests_on_any_data(configured) -> None:
    """Every column of every pair: Evidently's verdict equals that of the test it ran, computed here."""
    disagreements, decided_differently = [], []
    for name, (reference, current) in _parity_pairs().items():
        columns = [c for c in drift.COLUMNS if c in reference.columns and c in current.columns]
        columns = [
            c
            for c in columns
            if reference[c].replace([np.inf, -np.inf], np.nan).notna().any()
            and current[c].replace([np.inf, -np.inf], np.nan).notna().any()
        ]  # Evidently refuses empty
        ours = drift.compare_frames(reference, current, columns=columns)
        methods, thresholds = drift.evidently_config(ours) if configured else (None, None)
        result = drift.evidently_report(
            reference, current, columns=columns, methods=methods, thresholds=thresholds, html=False
        )
        table = drift.evidently_comparison(ours, result.table)
        assert table["same_test"].notna().all(), (name, table)
        for row in table.itertuples():
            if row.drift != row.same_drift or not np.isclose(row.score, row.same_score, rtol=1e-6, equal_nan=True):
                disagreements.append((name, row.column, row.method, row.score, row.same_score))
            if row.drift != row.decision_drift:
                decided_differently.append((name, row.column, row.method))
    assert disagreements == []
    # where our deciding test differs from Evidently's verdict, it is only ever the chi-square flavour
    assert {method for _, _, method in decided_differently} <= {"chisquare"}


def test_goodness_of_fit_is_evidently_chisquare_exactly() -> None:
    """Our χ² goodness of fit against evidently 0.7.23's own function, on counts of every shape."""
    from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test
    from evidently.legacy.core import ColumnType

    rng = np.random.default_rng(0)
    cases = [
        (["a"] * 30 + ["b"] * 20 + ["c"] * 5, ["a"] * 10 + ["b"] * 25 + ["c"] * 2),
        (["a"] * 30 + ["b"] * 20, ["a"] * 10 + ["b"] * 25 + ["z"] * 3),  # a category the reference never saw
        (["a"] * 30 + ["b"] * 20 + ["c"] * 5, ["a"] * 12 + ["b"] * 9),  # one the current batch lost
        (["a"] * 12, ["a"] * 7),  # a single category: no verdict
        *[
            (
                list(rng.choice(list("abcd"), size=int(n), p=[0.4, 0.3, 0.2, 0.1])),
                list(rng.choice(list("abcd"), size=int(m), p=[0.35, 0.3, 0.25, 0.1])),
            )
            for n, m in rng.integers(5, 800, size=(20, 2))
        ],
    ]
    for ref, cur in cases:
        feature = drift.compare_feature(pd.Series(ref, name="x"), pd.Series(cur, name="x"), kind="categorical")
        p_value, drifted = _chi_stat_test(pd.Series(ref), pd.Series(cur), ColumnType.Categorical, 0.05)
        ours = feature.stats["chi2_gof"]
        assert ours.value == pytest.approx(p_value, rel=1e-9, abs=1e-300, nan_ok=True), (ref[:3], cur[:3])
        assert ours.drift == bool(drifted)


def test_goodness_of_fit_alarms_more_than_the_two_sample_test_without_drift() -> None:
    """Why our deciding chi-square is the two-sample one: with no drift at all, the goodness-of-fit test
    (reference taken as exact) raises far more than its 5 % of false alarms when both samples are small."""
    rng = np.random.default_rng(1)
    areas, p = ["Urban", "Semiurban", "Rural"], [0.33, 0.38, 0.29]
    gof = homogeneity = 0
    for _ in range(400):
        ref = pd.Series(rng.choice(areas, 300, p=p), name="Property_Area")
        cur = pd.Series(rng.choice(areas, 300, p=p), name="Property_Area")
        feature = drift.compare_feature(ref, cur, kind="categorical")
        gof += feature.stats["chi2_gof"].drift
        homogeneity += feature.stats["chi2"].drift
    assert homogeneity / 400 == pytest.approx(0.05, abs=0.03)
    assert gof / 400 > 0.15


def test_evidently_large_sample_uses_distances_and_agrees() -> None:
    ref, cur = generate_loan_data(3000, 1), drift.apply_drift(generate_loan_data(3000, 2), "shift", 0.3)
    ours = drift.compare_frames(ref, cur)
    assert ours["ApplicantIncome"].decision == "wasserstein" and ours["Gender"].decision == "js"
    methods, thresholds = drift.evidently_config(ours)
    assert methods["Gender"] == "jensenshannon" and thresholds["Gender"] == pytest.approx(0.1)
    result = drift.evidently_report(ref, cur, methods=methods, thresholds=thresholds)
    assert dict(zip(result.table["column"], result.table["drift"])) == {
        f.feature: f.stats[f.decision].drift for f in ours.features
    }
    score = dict(zip(result.table["column"], result.table["score"]))
    assert score["Gender"] == pytest.approx(math.sqrt(ours["Gender"].stats["js"].value))
    assert score["ApplicantIncome"] == pytest.approx(ours["ApplicantIncome"].stats["wasserstein"].value)
    assert result.html.lstrip().lower().startswith("<!doctype html>") and len(result.html) > 10_000
    assert result.share_drifted == pytest.approx(len(ours.drifted) / 12) and not result.dataset_drift


# ---------------------------------------------------------------------------- hands-on checks


def test_mystery_batch_differs_per_learner_and_one_feature_drifts(reference) -> None:
    features = {drift.mystery_feature(name) for name in ("ana", "bob", "chloé", "dan", "eve", "fay")}
    assert len(features) >= 3
    for learner in ("ana", "bob", "chloé", "dan", "eve", "fay"):
        report = drift.compare_frames(reference, drift.mystery_batch(learner, reference), columns=list(FEATURES))
        assert report.drifted == [drift.mystery_feature(learner)], learner
    assert drift.mystery_feature("Ana ") == drift.mystery_feature("ana")


def test_check_mystery_feature() -> None:
    settings = get_settings()
    assert "No answer saved" in drift.check_mystery_feature(_ctx()).missing[0]
    wrong = next(f for f in FEATURES if f != drift.mystery_feature("ana"))
    drift.save_answer(settings, "ana", "mystery_feature", wrong)
    assert f"{wrong} is not the feature" in drift.check_mystery_feature(_ctx()).missing[0]
    drift.save_answer(settings, "ana", "mystery_feature", drift.mystery_feature("ana"))
    result = drift.check_mystery_feature(_ctx(lang="fr"))
    assert result.passed and "Bien vu" in result.detail


def test_check_categorical_test() -> None:
    settings = get_settings()
    assert not drift.check_categorical_test(_ctx()).passed
    drift.save_answer(settings, "ana", "categorical_test", "ks")
    assert "ordered values" in drift.check_categorical_test(_ctx()).missing[0]
    drift.save_answer(settings, "ana", "categorical_test", "chi2")
    assert drift.check_categorical_test(_ctx()).passed
    assert drift.load_answers(settings, "ana") == {"categorical_test": "chi2"}


def test_check_alert_threshold(reference) -> None:
    settings = get_settings()
    assert "No threshold saved" in drift.check_alert_threshold(_ctx()).missing[0]
    timeline, values = drift.threshold_exercise("ana", reference)
    start = timeline.start_week
    assert np.allclose(values, drift.threshold_psi("ana", reference))
    before, at_start = values[: start - 1].max(), values[start - 1]
    assert before < at_start  # a right answer exists
    drift.save_answer(settings, "ana", "psi_threshold", float(before))
    result = drift.check_alert_threshold(_ctx())
    assert not result.passed and "False alarm" in result.missing[0]
    drift.save_answer(settings, "ana", "psi_threshold", float(at_start) + 0.01)
    assert f"week {start}" in drift.check_alert_threshold(_ctx()).missing[0]
    drift.save_answer(settings, "ana", "psi_threshold", float((before + at_start) / 2))
    result = drift.check_alert_threshold(_ctx())
    assert result.passed and result.evidence["alarms"][0] == start


@pytest.mark.parametrize("learner", ["bob", "chloé", "learner58"])  # learner58: the first seed had no gap
def test_threshold_exercise_is_solvable_for_everyone(reference, learner) -> None:
    timeline, values = drift.threshold_exercise(learner, reference)
    start = timeline.start_week
    assert 8 <= start <= 14 and values[start - 1] - values[: start - 1].max() >= drift.THRESHOLD_GAP


@pytest.mark.parametrize("learner", ["ana", "bob", "zoé", "x2", "x5", "alice"])
def test_the_textbook_psi_threshold_does_not_solve_the_exercise(reference, learner) -> None:
    """The slider starts at 0.25: saving it untouched must not pass; reading one's own timeline does."""
    settings = get_settings()
    ctx = _ctx(learner)
    drift.save_answer(settings, learner, "psi_threshold", drift.THRESHOLDS["psi"])
    result = drift.check_alert_threshold(ctx)
    assert not result.passed, learner
    timeline, values = drift.threshold_exercise(learner, reference)
    start = timeline.start_week
    drift.save_answer(settings, learner, "psi_threshold", float(values[: start - 1].max() + values[start - 1]) / 2)
    assert drift.check_alert_threshold(ctx).passed


def test_mystery_feature_is_named_nowhere_but_in_the_check(reference) -> None:
    """The lab shows the mystery batch's statistics, never its verdict (see the page test); the batch
    itself moves only its feature, and the most-drifted helper finds it (for the simulated scenarios)."""
    learner = "ana"
    report = drift.compare_frames(reference, drift.mystery_batch(learner, reference), columns=list(FEATURES))
    assert drift.most_drifted(report, list(FEATURES)) == drift.mystery_feature(learner)


def test_answers_file_survives_garbage() -> None:
    settings = get_settings()
    records_for(settings, "ana").put_text(drift.ANSWERS_KEY, "{not json")
    assert drift.load_answers(settings, "ana") == {}
    assert drift.save_answer(settings, "ana", "x", 1) == {"x": 1}
