#!/usr/bin/env python3
"""Writes Fixtures/fairlearn/cases.json: seeded prediction sets and what Fairlearn and
statsmodels make of them (never clip-audit), for the per-class recall/FPR rows of metrics.csv
and the spreads of summary.csv.

    python3 -m venv /tmp/venv-fl && /tmp/venv-fl/bin/pip install fairlearn==0.15.0 statsmodels pandas
    /tmp/venv-fl/bin/python Fixtures/Generators/make_fairlearn_cases.py

Per case (a class design with a target), attributes `race` and `gender` and their
intersection, each metric's value by group from `fairlearn.metrics.MetricFrame`:
accuracy (`accuracy_score`), per class one-vs-rest `recall:<class>` (`recall_score`) and
`fpr:<class>` (`false_positive_rate`), `prediction_rate:<class>` (`selection_rate`); the
spread is `MetricFrame.difference(method="between_groups")` / `.ratio(...)`, the groups
`group_max`/`group_min` name are pandas' `idxmax`/`idxmin` (the first of tied groups in
Fairlearn's sorted group order; the groups here have no leading numbers, so that order is
clip-audit's too, which puts `3-9` before `10-19`), and the interval of
max − min is statsmodels' `confint_proportions_2indep(method="newcomb")`. For two-class
targets (first class positive): `demographic_parity_difference`/`_ratio` and
`equalized_odds_difference`/`_ratio`.

Where a rate is undefined in a group (recall without a true member of the class, FPR without a
true non-member), clip-audit leaves the group out. Fairlearn's own `false_positive_rate` and
`true_positive_rate` return 0 there (scikit-learn's `confusion_matrix(normalize="true")` turns
0/0 into 0), and `recall_score` returns 0 unless told otherwise; so the metrics here return NaN
for an undefined group (`zero_division=np.nan`, or a NaN before calling Fairlearn), which
`MetricFrame.difference`/`ratio` skip as pandas does. `equalized_odds_*` is then computed as
Fairlearn defines it (`max` of the two differences, the smaller of the two ratios) over a
`MetricFrame` of those NaN-aware rates; where every group has both classes, the script checks
that this equals Fairlearn's own `equalized_odds_difference`/`_ratio`.
"""
import functools
import json
import math
import os

import fairlearn
import numpy as np
import pandas as pd
import sklearn
import statsmodels
from fairlearn.metrics import (MetricFrame, demographic_parity_difference, demographic_parity_ratio,
                               equalized_odds_difference, equalized_odds_ratio, false_positive_rate,
                               selection_rate)
from scipy import stats
from sklearn.metrics import accuracy_score, recall_score
from statsmodels.stats.proportion import confint_proportions_2indep

Z95 = 1.959964
ALPHA = float(2.0 * stats.norm.sf(Z95))  # so statsmodels uses exactly clip-audit's z
ATTRIBUTES = ["race", "gender"]
SLICES = [["race"], ["gender"], ["race", "gender"]]


def make_records(seed, sizes, classes, truth_weights, skill, never_predicted=()):
    """Rows with race/gender groups of the given sizes; each row's truth drawn from the race's
    class weights, predicted correctly with the race's skill, otherwise as another class."""
    rng = np.random.default_rng(seed)
    records = []
    predictable = [c for c in classes if c not in never_predicted]
    for race, size in sizes.items():
        for i in range(size):
            gender = "Female" if rng.random() < 0.45 else "Male"
            truth = rng.choice(classes, p=truth_weights[race])
            if rng.random() < skill[race] and truth in predictable:
                predicted = truth
            else:
                predicted = rng.choice([c for c in predictable if c != truth] or predictable)
            records.append({"image": f"{race}-{i}", "groups": [race, gender], "truth": str(truth),
                            "predicted": str(predicted)})
    return records


def nan_if_empty(metric, needs):
    """`metric` on one group's rows, NaN when none of them has what the rate is over."""
    def wrapped(y_true, y_pred):
        y_true = np.asarray(y_true)
        if not needs(y_true).any():
            return float("nan")
        return float(metric(y_true, y_pred))
    return wrapped


def group_name(key):
    return "|".join(key) if isinstance(key, tuple) else str(key)


def features(frame, columns):
    return frame[columns[0]] if len(columns) == 1 else frame[columns]


def counts(frame, columns, mask, hit):
    """Per group name: (count, n) over the rows `mask` keeps, count where `hit`."""
    out = {}
    for key, rows in frame[mask].groupby(columns if len(columns) > 1 else columns[0], sort=True):
        out[group_name(key)] = (int(hit[rows.index].sum()), int(len(rows)))
    return out


def spread(mf, tallies):
    """One summary row from a one-metric MetricFrame and the counts behind its groups."""
    by_group = mf.by_group.dropna()
    if by_group.empty:
        return None
    high, low = group_name(by_group.idxmax()), group_name(by_group.idxmin())
    (x1, n1), (x2, n2) = tallies[high], tallies[low]
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=ALPHA)
    ratio = float(mf.ratio(method="between_groups"))
    return {"max_group": high, "max_value": float(mf.group_max()), "min_group": low,
            "min_value": float(mf.group_min()), "difference": float(mf.difference(method="between_groups")),
            "diff_ci_low": float(lo), "diff_ci_high": float(hi), "ratio": None if math.isnan(ratio) else ratio}


def build_case(name, classes, records):
    frame = pd.DataFrame({"race": [r["groups"][0] for r in records], "gender": [r["groups"][1] for r in records],
                          "truth": [r["truth"] for r in records], "predicted": [r["predicted"] for r in records]})
    truth, predicted = frame["truth"], frame["predicted"]
    everyone = pd.Series(True, index=frame.index)
    # metric name -> (Fairlearn metric over (y_true, y_pred), y_true, y_pred, rows counted, hit)
    metrics = {"accuracy": (accuracy_score, truth, predicted, everyone, truth == predicted)}
    for cls in classes:
        t, p = (truth == cls).astype(int), (predicted == cls).astype(int)
        recall = functools.partial(recall_score, zero_division=np.nan)
        metrics[f"recall:{cls}"] = (recall, t, p, truth == cls, predicted == cls)
        fpr = nan_if_empty(false_positive_rate, lambda y: y == 0)
        metrics[f"fpr:{cls}"] = (fpr, t, p, truth != cls, predicted == cls)
    for cls in classes:
        rate = functools.partial(selection_rate, pos_label=1)
        metrics[f"prediction_rate:{cls}"] = (rate, truth, (predicted == cls).astype(int), everyone, predicted == cls)

    expected = []
    spreads = {}
    for metric, (fn, y_true, y_pred, mask, hit) in metrics.items():
        for columns in SLICES:
            attribute = "|".join(columns)
            mf = MetricFrame(metrics=fn, y_true=y_true, y_pred=y_pred, sensitive_features=features(frame, columns))
            tallies = counts(frame, columns, mask, hit)
            by_group = {group_name(k): (None if math.isnan(v) else float(v)) for k, v in mf.by_group.items()}
            row = spread(mf, tallies)
            spreads[(metric, attribute)] = row
            entry = {"metric": metric, "attribute": attribute, "by_group": by_group,
                     "counts": {g: list(c) for g, c in tallies.items()}, "summary": row}
            expected.append(entry)

    parity = []
    if len(classes) == 2:
        positive = classes[0]
        t, p = (truth == positive).astype(int), (predicted == positive).astype(int)
        for columns in SLICES:
            attribute = "|".join(columns)
            sf = features(frame, columns)
            dp = dict(spreads[(f"prediction_rate:{positive}", attribute)])
            assert math.isclose(dp["difference"], demographic_parity_difference(t, p, sensitive_features=sf), abs_tol=1e-15)
            ratio = demographic_parity_ratio(t, p, sensitive_features=sf)
            assert (dp["ratio"] is None and math.isnan(ratio)) or math.isclose(dp["ratio"], ratio, abs_tol=1e-15)
            parity.append(dict(dp, metric="demographic_parity", attribute=attribute))

            tpr = nan_if_empty(lambda y, q: recall_score(y, q, zero_division=np.nan), lambda y: y == 1)
            fpr = nan_if_empty(false_positive_rate, lambda y: y == 0)
            eo = MetricFrame(metrics={"tpr": tpr, "fpr": fpr}, y_true=t, y_pred=p, sensitive_features=sf)
            difference = float(max(eo.difference(method="between_groups")))
            ratio = float(np.nanmin(eo.ratio(method="between_groups"))) if eo.ratio().notna().any() else None
            keys = [frame[c] for c in columns]
            every_group_has_both = all(len(set(g)) == 2 for _, g in t.groupby(keys))
            if every_group_has_both:
                assert math.isclose(difference, equalized_odds_difference(t, p, sensitive_features=sf), abs_tol=1e-15)
                assert ratio is not None and math.isclose(ratio, equalized_odds_ratio(t, p, sensitive_features=sf), abs_tol=1e-15)
            components = [spreads[(f"recall:{positive}", attribute)], spreads[(f"fpr:{positive}", attribute)]]
            deciding = components[1] if components[1]["difference"] > components[0]["difference"] else components[0]
            assert math.isclose(deciding["difference"], difference, abs_tol=1e-15)
            parity.append(dict(deciding, metric="equalized_odds", attribute=attribute, ratio=ratio,
                               fairlearn_builtin_difference=float(equalized_odds_difference(t, p, sensitive_features=sf))))
    return {"name": name, "classes": classes, "attributes": ATTRIBUTES, "intersections": [["race", "gender"]],
            "records": records, "metrics": expected, "parity": parity}


def main():
    cases = []
    two = ["Female", "Male"]
    cases.append(build_case(
        "two classes, every group has both",
        two, make_records(7, {"Black": 41, "East Asian": 23, "White": 64}, two,
                          {"Black": [0.5, 0.5], "East Asian": [0.4, 0.6], "White": [0.55, 0.45]},
                          {"Black": 0.7, "East Asian": 0.9, "White": 0.8})))
    # `Indian` rows are all Male: recall:Female and fpr:Male have no Indian group.
    cases.append(build_case(
        "two classes, one group without the positive class",
        two, make_records(11, {"Black": 30, "Indian": 9, "White": 52}, two,
                          {"Black": [0.5, 0.5], "Indian": [0.0, 1.0], "White": [0.5, 0.5]},
                          {"Black": 0.6, "Indian": 0.75, "White": 0.85})))
    three = ["child", "adult", "senior"]
    # `Latino` has no senior; nobody is predicted `senior`, so its recall and prediction rate are
    # 0 everywhere (ratio empty).
    cases.append(build_case(
        "three classes, a class absent in a group and one never predicted",
        three, make_records(5, {"Black": 35, "Latino": 12, "White": 58}, three,
                            {"Black": [0.3, 0.5, 0.2], "Latino": [0.4, 0.6, 0.0], "White": [0.2, 0.5, 0.3]},
                            {"Black": 0.65, "Latino": 0.8, "White": 0.75}, never_predicted=("senior",))))
    out = {
        "generator": "Fixtures/Generators/make_fairlearn_cases.py",
        "versions": {"fairlearn": fairlearn.__version__, "statsmodels": statsmodels.__version__,
                     "scikit-learn": sklearn.__version__, "pandas": pd.__version__, "numpy": np.__version__},
        "z": Z95,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "fairlearn", "cases.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}: {len(cases)} cases")


if __name__ == "__main__":
    main()
