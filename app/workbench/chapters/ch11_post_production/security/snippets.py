""" "Show me the code": runnable scripts that reproduce each attack and defense of the lab."""

from __future__ import annotations

import json
from collections.abc import Sequence

from workbench.core.data import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
)

# --------------------------------------------------------------------------------------------
# "Show me the code"
# --------------------------------------------------------------------------------------------

_SETUP = """import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier

df = pd.read_csv({data_path!r})
numeric = {numeric!r}
categorical = {categorical!r}
X, y = df[numeric + categorical], (df["Loan_Status"] == "Y").astype(int).to_numpy()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
preprocess = ColumnTransformer([
    ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
    ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                              ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), categorical),
]).fit(X_train)
Z_train, Z_test = preprocess.transform(X_train), preprocess.transform(X_test)
mask = np.zeros(Z_test.shape[1]); mask[:{n_mask}] = 1.0   # the attacker may change the numeric features only
"""


def _setup(data_path: str, n_mask: int = len(NUMERIC_FEATURES)) -> str:
    return _SETUP.format(
        data_path=data_path, numeric=list(NUMERIC_FEATURES), categorical=list(CATEGORICAL_FEATURES), n_mask=n_mask
    )


def evasion_code(attack: str, eps: float = 1.0, data_path: str = "data/loan.csv", max_rows: int = 20) -> str:
    """Plain Python (scikit-learn + ART) for the white-box or black-box evasion attack."""
    if attack in ("fgsm", "pgd"):
        make = (
            f"FastGradientMethod(classifier, eps={eps})"
            if attack == "fgsm"
            else f"ProjectedGradientDescent(classifier, eps={eps}, eps_step={eps / 4}, max_iter=10, verbose=False)"
        )
        return (
            _setup(data_path)
            + f"""
from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
from art.estimators.classification import SklearnClassifier

model = LogisticRegression(max_iter=1000, random_state=42).fit(Z_train, y_train)
classifier = SklearnClassifier(model=model)            # ART reads the gradients of the logistic regression
attack = {make}
Z_adv = attack.generate(Z_test.astype(np.float32), mask=mask)
print("accuracy, clean:", (model.predict(Z_test) == y_test).mean())
print("accuracy under attack (model space):", (model.predict(Z_adv) == y_test).mean())
# Back to applications: undo the scaling, then clip to the valid ranges and round the amounts
scaler = preprocess.named_transformers_["numeric"].named_steps["scale"]
raw = Z_adv[:, :5] * scaler.scale_ + scaler.mean_
print(pd.DataFrame(raw[:3].round(), columns=numeric))
"""
        )
    make = (
        "HopSkipJump(classifier, targeted=False, max_iter=10, max_eval=200, init_eval=20, verbose=False)"
        if attack == "hopskipjump"
        else "BoundaryAttack(classifier, targeted=False, max_iter=100, num_trial=10, sample_size=10, init_size=100, "
        "verbose=False)"
    )
    return (
        _setup(data_path)
        + f"""
from art.attacks.evasion import BoundaryAttack, HopSkipJump
from art.estimators.classification import SklearnClassifier

model = RandomForestClassifier(n_estimators=100, max_depth=6, min_samples_leaf=3, random_state=42)
model.fit(Z_train, y_train)
low = np.r_[(np.array([0, 0, 1, 1, 0]) - preprocess.named_transformers_["numeric"]["scale"].mean_)
            / preprocess.named_transformers_["numeric"]["scale"].scale_, np.zeros(Z_test.shape[1] - 5)]
high = np.r_[(np.array([1e6, 1e6, 1e4, 600, 1]) - preprocess.named_transformers_["numeric"]["scale"].mean_)
             / preprocess.named_transformers_["numeric"]["scale"].scale_, np.ones(Z_test.shape[1] - 5)]
classifier = SklearnClassifier(model=model, clip_values=(low, high))  # only predictions are used
attack = {make}
x = Z_test[:{max_rows}].astype(np.float32)
x_adv = attack.generate(x{", mask=mask" if attack == "hopskipjump" else ""})
print("accuracy, clean:", (model.predict(x) == y_test[:{max_rows}]).mean())
print("accuracy under attack:", (model.predict(x_adv) == y_test[:{max_rows}]).mean())
"""
    )


def api_attack_code(url: str, application: dict, features: Sequence[str]) -> str:
    """Plain Python for the greedy black-box attack that only calls the API over HTTP."""
    return f"""import requests

URL = "{url}/predict"
application = {json.dumps(application, ensure_ascii=False)}
features = {list(features)!r}
queries = 0

def probability(app):
    global queries
    queries += 1
    response = requests.post(URL, json=app, timeout=10)
    response.raise_for_status()          # a 429 means: the rate limit caught us
    return response.json()["probability"]

def candidates(app, feature):
    if feature == "Loan_Amount_Term":
        return [t for t in (12, 36, 60, 84, 120, 180, 240, 300, 360, 480) if t != app[feature]]
    base = app[feature] or 1000
    return sorted({{int(round(base * f)) for f in (0.5, 0.75, 1.25, 1.5, 2.0)}} - {{app[feature]}})

p = probability(application)
goal_is_approval = p < 0.5
while (p < 0.5) == goal_is_approval and queries < 200:
    tries = [(probability({{**application, f: v}}), f, v) for f in features for v in candidates(application, f)]
    best = max(tries) if goal_is_approval else min(tries)
    if (best[0] <= p) if goal_is_approval else (best[0] >= p):
        break                                 # stuck: no move helps
    p, feature, value = best
    application[feature] = value
    print(f"{{feature}} -> {{value}}: p = {{p:.3f}} after {{queries}} queries")
print("decision flipped:", (p >= 0.5) == goal_is_approval, application)
"""


def poisoning_code(model_name: str = "logistic_regression", data_path: str = "data/loan.csv") -> str:
    """Plain Python for the label-flipping curve and ART's backdoor poisoning."""
    estimator = (
        "LogisticRegression(max_iter=1000, random_state=42)"
        if model_name == "logistic_regression"
        else "RandomForestClassifier(n_estimators=100, max_depth=6, random_state=42)"
    )
    return (
        _setup(data_path)
        + f"""
rng = np.random.default_rng(0)
for rate in (0.0, 0.05, 0.1, 0.2, 0.3, 0.4):
    y_poisoned = y_train.copy()
    flipped = rng.choice(len(y_train), size=int(rate * len(y_train)), replace=False)
    y_poisoned[flipped] = 1 - y_poisoned[flipped]             # label flipping
    model = {estimator}.fit(Z_train, y_poisoned)
    print(f"poison rate {{rate:.0%}}: test accuracy {{(model.predict(Z_test) == y_test).mean():.3f}}")

# Backdoor with ART: a rare trigger (term 84 months, co-applicant income 1234) labelled "approved"
from art.attacks.poisoning import PoisoningAttackBackdoor

scaler = preprocess.named_transformers_["numeric"]["scale"]
trigger = (np.array([1234.0, 84.0]) - scaler.mean_[[1, 3]]) / scaler.scale_[[1, 3]]

def add_trigger(x):
    x = x.copy(); x[:, [1, 3]] = trigger; return x

chosen = rng.choice(len(Z_train), size=int(0.05 * len(Z_train)), replace=False)
x_poison, y_poison = PoisoningAttackBackdoor(add_trigger).poison(Z_train[chosen], y=np.ones(len(chosen), int))
backdoored = RandomForestClassifier(n_estimators=100, random_state=42).fit(
    np.vstack([Z_train, x_poison]), np.r_[y_train, y_poison])
rejected = Z_test[backdoored.predict(Z_test) == 0]
print("clean accuracy:", (backdoored.predict(Z_test) == y_test).mean())
print("rejected applications approved with the trigger:", backdoored.predict(add_trigger(rejected)).mean())
"""
    )


def extraction_code(url: str, n_queries: int = 400, surrogate: str = "decision_tree") -> str:
    """Plain Python for the extraction attack against the live API."""
    if surrogate == "decision_tree":
        model, target, back = (
            "DecisionTreeRegressor(max_depth=10, random_state=42)",
            "p",
            "copy.predict(holdout).clip(0, 1)",
        )
    else:
        model, target, back = "Ridge()", "np.log(p / (1 - p))", "1 / (1 + np.exp(-copy.predict(holdout)))"
    return f"""import numpy as np
import pandas as pd
import requests
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeRegressor
from workbench.core.data import generate_loan_data

URL = "{url}"
numeric = {list(NUMERIC_FEATURES)!r}
categorical = {list(CATEGORICAL_FEATURES)!r}
# The attacker makes up plausible applications (here: the generated twin, another seed)
queries = generate_loan_data({n_queries}, seed=7)[numeric + categorical]
holdout = generate_loan_data(200, seed=8)[numeric + categorical]

def as_json(frame):
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        if row["Credit_History"] is not None:
            row["Credit_History"] = int(row["Credit_History"])
    return rows

answers, refused = [], 0
for application in as_json(queries):
    response = requests.post(URL + "/predict", json=application, timeout=10)
    if response.status_code == 429:                  # rate limited: this answer is lost
        refused += 1
        answers.append(None)
        continue
    answers.append(response.json()["probability"])   # the API gives away its probability, not only Y/N
known = [i for i, a in enumerate(answers) if a is not None]
p = np.clip([answers[i] for i in known], 1e-6, 1 - 1e-6)

copy = Pipeline([
    ("preprocess", ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                  ("encode", OneHotEncoder(handle_unknown="ignore"))]), categorical)])),
    ("model", {model}),
]).fit(queries.iloc[known], {target})

# The model's owner measures the copy (one batch call: run it while the API has no rate limit,
# since under a limit a batch costs one request per row)
truth = np.array([answer["probability"]
                  for answer in requests.post(URL + "/predict/batch", json=as_json(holdout), timeout=60).json()["predictions"]])
stolen = {back}
print("answers obtained:", len(known), "refused:", refused)
print("fidelity (probability within 5 points of the API's):", (abs(stolen - truth) <= 0.05).mean())
print("same decision:", ((stolen >= 0.5) == (truth >= 0.5)).mean())
"""


def membership_code(data_path: str = "data/loan.csv") -> str:
    """Plain Python for ART's black-box membership inference on a regularised and an overfit forest."""
    return (
        _setup(data_path)
        + """
from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
from art.estimators.classification import SklearnClassifier
from sklearn.metrics import roc_auc_score

for name, params in {"regularised": {"max_depth": 3, "min_samples_leaf": 20},
                     "overfit": {"max_depth": 20, "min_samples_leaf": 1}}.items():
    model = RandomForestClassifier(n_estimators=100, random_state=42, **params).fit(Z_train, y_train)
    attack = MembershipInferenceBlackBox(SklearnClassifier(model=model), attack_model_type="rf")
    a, b = len(Z_train) // 2, len(Z_test) // 2
    attack.fit(Z_train[:a].astype(np.float32), y_train[:a], Z_test[:b].astype(np.float32), y_test[:b])
    members = attack.infer(Z_train[a:].astype(np.float32), y_train[a:], probabilities=True).ravel()
    others = attack.infer(Z_test[b:].astype(np.float32), y_test[b:], probabilities=True).ravel()
    auc = roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(others))], np.r_[members, others])
    print(f"{name}: train acc {model.score(Z_train, y_train):.3f}, test acc {model.score(Z_test, y_test):.3f}, "
          f"attack AUC {auc:.3f}")
"""
    )


def dos_code(url: str, max_body: int, n: int = 60) -> str:
    """Plain Python for the oversize request and the burst."""
    return f"""import collections
import json
import requests

URL = "{url}"
application = {json.dumps(dict(_example()), ensure_ascii=False)}

# 1. A body larger than the cap ({max_body} bytes): refused with 413 before it is parsed
body = json.dumps([application] * ({max_body} // len(json.dumps(application)) + 10))
print(requests.post(URL + "/predict/batch", data=body, headers={{"Content-Type": "application/json"}}).status_code)

# 2. A burst of {n} requests from one client: 429 (with Retry-After) once over the rate limit
codes = collections.Counter(requests.post(URL + "/predict", json=application).status_code for _ in range({n}))
print(codes)
"""


def _example() -> dict:
    from workbench.core.api_client import EXAMPLE_APPLICATION

    return EXAMPLE_APPLICATION


def defenses_code(eps: float = 1.0, data_path: str = "data/loan.csv") -> str:
    """Plain Python for adversarial training (min-max, exact for a linear model) and the ensemble defense."""
    return (
        _setup(data_path)
        + f"""
from art.attacks.evasion import FastGradientMethod
from art.estimators.classification import SklearnClassifier
from scipy.optimize import minimize
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier

EPS = {eps}

def fgsm(model, Z):
    return FastGradientMethod(SklearnClassifier(model=model), eps=EPS).generate(Z.astype(np.float32), mask=mask)

model = LogisticRegression(max_iter=1000, random_state=42).fit(Z_train, y_train)

# Adversarial training, min-max: for a linear model the worst change of size EPS lowers every margin by
# EPS * sum(|w|) on the attackable columns, so training on the worst case is minimising this loss.
signs, d = 2 * y_train - 1, Z_train.shape[1]

def robust_loss(theta):
    w, b = theta[:d], theta[d]
    margin = signs * (Z_train @ w + b) - EPS * (mask * np.sqrt(w**2 + 1e-8)).sum()
    return np.logaddexp(0, -margin).sum() + 0.5 * w @ w

theta = minimize(robust_loss, np.zeros(d + 1), method="L-BFGS-B").x
hardened = LogisticRegression(max_iter=1000).fit(Z_train, y_train)
hardened.coef_, hardened.intercept_ = theta[:d][None, :], np.array([theta[d]])
for name, m in (("plain", model), ("adversarially trained", hardened)):
    print(f"{{name}}: clean {{(m.predict(Z_test) == y_test).mean():.3f}}, "
          f"under FGSM {{(m.predict(fgsm(m, Z_test)) == y_test).mean():.3f}}")

# Ensemble: the same adversarial rows (crafted on the logistic regression) against a soft vote
ensemble = VotingClassifier([("lr", LogisticRegression(max_iter=1000, random_state=42)),
                             ("rf", RandomForestClassifier(max_depth=6, min_samples_leaf=3, random_state=42)),
                             ("gb", HistGradientBoostingClassifier(random_state=42))], voting="soft")
ensemble.fit(Z_train, y_train)
Z_adv = fgsm(model, Z_test)
print("logistic regression under attack:", (model.predict(Z_adv) == y_test).mean())
print("ensemble under the same attack:", (ensemble.predict(Z_adv) == y_test).mean())
"""
    )
