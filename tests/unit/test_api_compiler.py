"""The pipeline compiler gives the pipeline's own answers (to 1e-9), step by step, and names what it cannot
compile. Pipelines are built with plain scikit-learn, as a learner would."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector, make_column_transformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier
from workbench.api.compiler import InputSchema, NotCompilable, compile_pipeline, verify

from tests.conftest import REPO_ROOT

NUMERIC = ["ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term", "Credit_History"]
CATEGORICAL = ["Gender", "Married", "Dependents", "Education", "Self_Employed", "Property_Area"]


@pytest.fixture(scope="module")
def loan() -> tuple[pd.DataFrame, pd.Series]:
    data = pd.read_csv(REPO_ROOT / "data" / "loan.csv")
    return data[NUMERIC + CATEGORICAL], (data["Loan_Status"] == "Y").astype(int)


def odd_rows(X: pd.DataFrame) -> pd.DataFrame:
    """Rows a served model meets: every field missing in turn, unknown categories, extreme numbers."""
    base = X.dropna().iloc[0]
    rows = []
    for column in X.columns:
        row = base.copy()
        row[column] = np.nan
        rows.append(row)
    all_missing = base.copy()
    all_missing[:] = np.nan
    rows.append(all_missing)
    for column in [c for c in CATEGORICAL if c in X.columns]:
        row = base.copy()
        row[column] = "Mars"
        rows.append(row)
    for value in (0.0, 1e9):
        row = base.copy()
        row["ApplicantIncome"] = value
        rows.append(row)
    frame = pd.DataFrame(rows).reset_index(drop=True)
    return frame.astype({c: "float64" for c in NUMERIC})


def schema(X: pd.DataFrame) -> InputSchema:
    return InputSchema(tuple(X.columns), frozenset(c for c in X.columns if X[c].dtype.kind in "fiu"))


def records(X: pd.DataFrame) -> list[dict]:
    return X.astype(object).where(X.notna(), None).to_dict("records")


def assert_same(pipeline, X: pd.DataFrame) -> None:
    """Compiled and pipeline agree on the data and on odd rows, row by row (or both refuse the row)."""
    compiled = compile_pipeline(pipeline, schema(X))
    rows = pd.concat([X[X.isna().any(axis=1)].head(10), odd_rows(X)], ignore_index=True)
    for i in range(len(rows)):
        frame = rows.iloc[[i]]
        try:
            want = pipeline.predict_proba(frame)[0, 1]
        except ValueError:
            with pytest.raises(ValueError):
                compiled.predict_proba(records(frame))
            continue
        got = compiled.predict_proba(records(frame))[0]
        assert abs(got - want) <= 1e-9, (i, got, want, frame.to_dict("records"))
    complete = X.dropna()
    np.testing.assert_allclose(
        compiled.predict_proba(records(complete)), pipeline.predict_proba(complete)[:, 1], rtol=0, atol=1e-9
    )
    assert verify(compiled, pipeline, complete) is None


def learner_preprocessing(**onehot) -> ColumnTransformer:
    return make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"), OneHotEncoder(**{"handle_unknown": "ignore", **onehot})
            ),
            CATEGORICAL,
        ),
    )


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(max_iter=1000),
        LogisticRegression(C=0.1, class_weight="balanced", max_iter=1000),
        SGDClassifier(loss="log_loss", random_state=0),
        SGDClassifier(loss="modified_huber", random_state=0),
        DecisionTreeClassifier(max_depth=5, random_state=0),
        DecisionTreeClassifier(random_state=0),
        RandomForestClassifier(n_estimators=30, random_state=0),
        ExtraTreesClassifier(n_estimators=30, max_depth=8, random_state=0),
        GradientBoostingClassifier(n_estimators=40, random_state=0),
        GradientBoostingClassifier(n_estimators=20, init="zero", subsample=0.8, random_state=0),
        HistGradientBoostingClassifier(max_iter=40, random_state=0),
    ],
    ids=lambda m: f"{type(m).__name__}-{id(m) % 1000}",
)
def test_learner_pipeline_with_each_model(loan, model) -> None:
    X, y = loan
    assert_same(make_pipeline(learner_preprocessing(), model).fit(X, y), X)


@pytest.mark.parametrize(
    "onehot",
    [
        {"drop": "first"},
        {"drop": "if_binary"},
        {"drop": "first", "handle_unknown": "ignore"},
        {"handle_unknown": "infrequent_if_exist", "min_frequency": 40},
        {"handle_unknown": "infrequent_if_exist", "max_categories": 2},
        {"handle_unknown": "ignore", "min_frequency": 0.2, "drop": "first"},
        {"handle_unknown": "error"},
        {"sparse_output": False, "dtype": np.float32},
    ],
    ids=str,
)
def test_one_hot_encoder_options(loan, onehot) -> None:
    X, y = loan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # drop + handle_unknown="ignore" warns at fit
        pipeline = make_pipeline(learner_preprocessing(**onehot), LogisticRegression(max_iter=1000)).fit(X, y)
    assert_same(pipeline, X)


def test_unknown_category_refused_like_the_pipeline(loan) -> None:
    X, y = loan
    pipeline = make_pipeline(learner_preprocessing(handle_unknown="error"), LogisticRegression(max_iter=1000)).fit(X, y)
    compiled = compile_pipeline(pipeline, schema(X))
    row = X.dropna().head(1).assign(Property_Area="Mars")
    with pytest.raises(ValueError):
        pipeline.predict_proba(row)
    with pytest.raises(ValueError, match="unknown categor"):
        compiled.predict_proba(records(row))


def test_encoders_without_imputer_see_missing_values_as_a_category(loan) -> None:
    X, y = loan
    pipeline = make_pipeline(
        make_column_transformer(
            (SimpleImputer(strategy="mean"), NUMERIC),
            (OneHotEncoder(handle_unknown="ignore"), ["Gender", "Married"]),
            (
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
                ["Dependents", "Property_Area"],
            ),
            (OrdinalEncoder(), ["Education"]),
        ),
        LogisticRegression(max_iter=2000),
    ).fit(X, y)
    assert_same(pipeline, X)


@pytest.mark.parametrize(
    "numeric",
    [
        make_pipeline(SimpleImputer(strategy="mean", add_indicator=True), MinMaxScaler()),
        make_pipeline(SimpleImputer(strategy="constant", fill_value=0), MinMaxScaler(clip=True)),
        make_pipeline(SimpleImputer(strategy="median"), RobustScaler()),
        make_pipeline(SimpleImputer(strategy="most_frequent"), MaxAbsScaler(), FunctionTransformer()),
        make_pipeline(SimpleImputer(), StandardScaler(with_mean=False), VarianceThreshold(0.5)),
        make_pipeline(SimpleImputer(), "passthrough", RobustScaler(with_centering=False)),
    ],
    ids=lambda p: "+".join(type(s).__name__ for _, s in p.steps),
)
def test_numeric_steps(loan, numeric) -> None:
    X, y = loan
    preprocessing = make_column_transformer(
        (numeric, NUMERIC),
        (
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"), OneHotEncoder(handle_unknown="ignore")
            ),
            CATEGORICAL,
        ),
    )
    assert_same(make_pipeline(preprocessing, LogisticRegression(max_iter=2000)).fit(X, y), X)


def test_nested_column_transformers_remainder_and_selection_by_index(loan) -> None:
    X, y = loan
    inner = ColumnTransformer(
        [("scale", StandardScaler(), [0, 2]), ("keep", "passthrough", [1])],
        remainder=MinMaxScaler(),
    )
    outer = ColumnTransformer(
        [
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median"), inner),
                ["ApplicantIncome", "Credit_History", "LoanAmount", "Loan_Amount_Term"],
            ),
            (
                "text",
                make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
                make_column_selector(dtype_include=object),
            ),
            ("by_index", "drop", [1]),
        ],
        remainder=make_pipeline(SimpleImputer(), StandardScaler()),
    )
    pipeline = make_pipeline(outer, LogisticRegression(max_iter=2000)).fit(X, y)
    assert_same(pipeline, X)


def test_column_transformer_fitted_on_a_dataframe_subset_selects_by_name(loan) -> None:
    X, y = loan
    inner = ColumnTransformer([("sel", OneHotEncoder(handle_unknown="ignore"), ["Property_Area", "Education"])])
    outer = ColumnTransformer(
        [
            ("cats", make_pipeline(inner), ["Education", "Gender", "Property_Area"]),
            ("nums", SimpleImputer(), slice(0, 5)),
        ],
    )
    pipeline = make_pipeline(outer, RandomForestClassifier(n_estimators=10, random_state=0)).fit(X, y)
    assert_same(pipeline, X)


def test_index_selection_on_arrays(loan) -> None:
    X, y = loan
    array_pipeline = make_pipeline(
        SimpleImputer(strategy="median"),
        ColumnTransformer(
            [("a", StandardScaler(), [0, 2]), ("b", "passthrough", np.array([True, False, False, False, True]))]
        ),
        LogisticRegression(),
    ).fit(X[NUMERIC], y)
    assert_same(array_pipeline, X[NUMERIC])


def test_hist_gradient_boosting_native_missing_values_and_categories(loan) -> None:
    X, y = loan
    encode = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=np.nan),
            CATEGORICAL,
        ),
        ("passthrough", NUMERIC),
    )
    model = HistGradientBoostingClassifier(
        max_iter=50, categorical_features=list(range(len(CATEGORICAL))), random_state=0
    )
    pipeline = make_pipeline(encode, model).fit(X, y)
    compiled = compile_pipeline(pipeline, schema(X))
    assert compiled.model == "HistGradientBoostingClassifier"
    assert_same(pipeline, X)


def test_trees_with_native_missing_values(loan) -> None:
    X, y = loan
    for model in (
        DecisionTreeClassifier(max_depth=6, random_state=0),
        RandomForestClassifier(n_estimators=20, random_state=0),
    ):
        pipeline = make_pipeline(make_column_transformer(("passthrough", NUMERIC)), model).fit(X, y)
        assert_same(pipeline, X)


def test_forest_is_one_set_of_arrays(loan) -> None:
    X, y = loan
    forest = RandomForestClassifier(n_estimators=25, random_state=0)
    pipeline = make_pipeline(learner_preprocessing(), forest).fit(X, y)
    compiled = compile_pipeline(pipeline, schema(X))
    stacked = compiled.proba.__closure__[0].cell_contents  # the _Forest the compiled model walks
    assert len(stacked.roots) == 25
    assert len(stacked.feature) == sum(t.tree_.node_count for t in forest.estimators_)


def test_ridge_classifier_decision_function(loan) -> None:
    X, y = loan
    pipeline = make_pipeline(learner_preprocessing(), RidgeClassifier()).fit(X, y)
    compiled = compile_pipeline(pipeline, schema(X))
    complete = X.dropna().head(100)
    np.testing.assert_allclose(
        compiled.decision_function(records(complete)), pipeline.decision_function(complete), rtol=0, atol=1e-9
    )
    with pytest.raises(AttributeError):
        compiled.predict_proba(records(complete))


@pytest.mark.parametrize(
    ("pipeline", "step"),
    [
        (make_pipeline(learner_preprocessing(), KNeighborsClassifier()), "kneighborsclassifier (KNeighborsClassifier)"),
        (
            Pipeline(
                [("prep", make_column_transformer((PolynomialFeatures(), NUMERIC[:2]))), ("clf", LogisticRegression())]
            ),
            "prep › polynomialfeatures (PolynomialFeatures)",
        ),
        (
            make_pipeline(
                make_column_transformer((FunctionTransformer(np.log1p), ["ApplicantIncome"])), LogisticRegression()
            ),
            "columntransformer › functiontransformer (FunctionTransformer)",
        ),
    ],
    ids=["knn", "polynomial", "log1p"],
)
def test_unsupported_steps_are_named(loan, pipeline, step) -> None:
    X, y = loan
    pipeline.fit(X.fillna({c: 0 for c in NUMERIC}), y)
    with pytest.raises(NotCompilable) as caught:
        compile_pipeline(pipeline, schema(X))
    assert caught.value.step == step


def test_a_pipeline_fitted_on_other_columns_is_not_compiled(loan) -> None:
    X, y = loan
    pipeline = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X[NUMERIC], y)
    with pytest.raises(NotCompilable, match="expects the columns"):
        compile_pipeline(pipeline, schema(X))


def test_verify_reports_a_difference(loan) -> None:
    X, y = loan
    pipeline = make_pipeline(learner_preprocessing(), LogisticRegression(max_iter=1000)).fit(X, y)
    compiled = compile_pipeline(pipeline, schema(X))
    other = make_pipeline(learner_preprocessing(), LogisticRegression(C=0.01, max_iter=1000)).fit(X, y)
    problem = verify(compiled, other, X.dropna().head(50))
    assert problem is not None and problem.startswith("compiled ")


def test_preprocessing_compiled_in_front_of_an_unknown_model(loan) -> None:
    from workbench.api.compiler import compile_preprocessing

    X, y = loan
    pipeline = make_pipeline(learner_preprocessing(), KNeighborsClassifier(n_neighbors=15)).fit(X, y)
    compiled = compile_preprocessing(pipeline, schema(X))
    assert compiled.model is pipeline[-1]
    assert verify(compiled, pipeline, pd.concat([X.head(100), odd_rows(X)], ignore_index=True)) is None
