#!/usr/bin/env python3
"""Writes Fixtures/statistics_cases.json: reference values for the statistics in
Sources/AuditEngine/Statistics, computed with scipy and statsmodels (never with clip-audit).

    python3 -m venv /tmp/statsvenv && /tmp/statsvenv/bin/pip install scipy statsmodels
    /tmp/statsvenv/bin/python Fixtures/Generators/make_statistics_cases.py

The one statistic neither library offers, Newcombe's square-and-add interval for a paired
difference, is computed here by a separate transcription of the published formula
(Fagerland, Lydersen & Laake 2017, "Statistical Analysis of Contingency Tables", section 8.5.4),
so the Swift code is still checked against code written independently of it.
"""
import json
import math
import os

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (confint_proportions_2indep,
                                          proportion_confint, proportions_ztest)

Z95 = 1.959964


def alpha_for(z):
    """Two-sided level whose normal quantile is z, so the library uses exactly our z."""
    return float(2.0 * stats.norm.sf(z))


def wilson_cases():
    cases = []
    spec = [(0, 1), (1, 1), (0, 10), (10, 10), (1, 2), (3, 7), (81, 263), (15, 148), (0, 20),
            (1, 29), (29, 30), (50, 100), (1, 1_000_000), (999_999, 1_000_000),
            (0, 10_000_000), (123_456, 10_000_000), (7, 31)]
    for x, n in spec:
        for z in (Z95, 2.5758293035489):
            lo, hi = proportion_confint(x, n, alpha=alpha_for(z), method="wilson")
            cases.append({"successes": x, "trials": n, "z": z, "low": float(lo), "high": float(hi)})
    return cases


def normal_cases():
    xs = [-40.0, -37.5, -20.0, -8.5, -5.0, -3.0, -1.959964, -1.0, -0.1, 0.0, 0.1, 1.0,
          1.959964, 3.0, 5.0, 8.5, 12.0]
    return [{"x": x, "cdf": float(stats.norm.cdf(x)), "two_sided_p": float(2.0 * stats.norm.sf(abs(x)))}
            for x in xs]


def ztest_cases():
    spec = [(15, 50, 25, 50), (0, 10, 3, 12), (10, 10, 7, 12), (1, 2, 0, 3), (45, 100, 45, 100),
            (480, 1000, 520, 1000), (5000, 100000, 5400, 100000), (30, 40, 2, 40),
            (900, 1000, 100, 1000), (2, 31, 9, 35), (60000, 300000, 10000, 300000),
            (0, 10, 0, 20), (10, 10, 20, 20)]
    cases = []
    for x1, n1, x2, n2 in spec:
        pooled = (x1 + x2) / (n1 + n2)
        if pooled in (0.0, 1.0):
            # Undefined test: the contract (REFERENCE-NOTES) fixes p = 1; no library value exists.
            cases.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "p": 1.0, "z": None,
                          "source": "contract: pooled proportion 0 or 1"})
            continue
        z, p = proportions_ztest([x1, x2], [n1, n2], value=0, alternative="two-sided")
        table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
        chi2, p_chi2, _, _ = stats.chi2_contingency(table, correction=False)
        assert math.isclose(p, p_chi2, rel_tol=1e-6, abs_tol=1e-300), (p, p_chi2)
        # chi2.sf keeps accuracy in the far tail where 1 - cdf would round to 0
        cases.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": float(z),
                      "p": float(stats.chi2.sf(chi2, 1)),
                      "source": "statsmodels proportions_ztest == scipy chi2_contingency(correction=False)"})
    return cases


def holm_cases():
    lists = [
        [0.01, 0.04, 0.03, 0.005],
        [0.5],
        [0.02, 0.02, 0.02],
        [1.0, 0.001, 0.9, 0.04, 0.04, 1e-12],
        [0.3, 0.2, 0.1, 0.05, 0.04, 0.03, 0.02, 0.01],
        [],
    ]
    out = []
    for ps in lists:
        adj = multipletests(ps, method="holm")[1].tolist() if ps else []
        out.append({"p": ps, "adjusted": [float(a) for a in adj]})
    return out


def mcnemar_cases():
    spec = [(0, 0), (0, 1), (1, 0), (3, 3), (2, 8), (8, 2), (0, 12), (5, 30), (25, 30),
            (100, 150), (1000, 1100), (49_000, 51_000), (499_000, 501_000), (300_000, 700_000),
            (0, 1_000_000), (10, 40)]
    cases = []
    for b, c in spec:
        # a and d do not enter the exact test; fill them so the table is a real one.
        table = [[7, b], [c, 11]]
        p = float(mcnemar(table, exact=True).pvalue)
        if b + c > 0:
            p_binom = float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)
            assert math.isclose(p, p_binom, rel_tol=1e-9, abs_tol=1e-300), (b, c, p, p_binom)
        cases.append({"b": b, "c": c, "p": p})
    return cases


def unpaired_cases():
    spec = [(56, 70, 48, 80), (9, 10, 3, 10), (6, 7, 2, 7), (5, 56, 0, 29), (0, 10, 0, 20),
            (0, 10, 0, 10), (10, 10, 0, 20), (10, 10, 0, 10), (7, 34, 1, 34), (480, 1000, 520, 1000),
            (1, 3, 250, 400)]
    cases = []
    for x1, n1, x2, n2 in spec:
        lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff",
                                           alpha=alpha_for(Z95))
        cases.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "low": float(lo), "high": float(hi)})
    return cases


def wilson_py(x, n, z):
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def paired_py(a, b, c, d, z):
    """Fagerland et al. (2017) eq. for the Newcombe square-and-add interval, p1 - p2 with
    p1 = (a+b)/N (first measurement positive) and p2 = (a+c)/N (second positive)."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_py(a + b, n, z)
    l2, u2 = wilson_py(a + c, n, z)
    r1, r2, c1, c2 = a + b, c + d, a + c, b + d
    if 0 in (r1, r2, c1, c2):
        psi = 0.0
    else:
        big_a = a * d - b * c
        denom = math.sqrt(float(r1) * r2 * c1 * c2)
        if big_a > n / 2:
            psi = (big_a - n / 2) / denom
        elif big_a >= 0:
            psi = 0.0
        else:
            psi = big_a / denom
    est = p1 - p2
    lo = est - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * psi * (p1 - l1) * (u2 - p2))
    hi = est + math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * psi * (p2 - l2) * (u1 - p1))
    return lo, hi


def paired_cases():
    spec = [(59, 6, 16, 80), (1, 1, 7, 12), (14, 5, 0, 22), (36, 12, 2, 0), (0, 0, 0, 10),
            (10, 0, 0, 0), (0, 5, 0, 5), (3, 4, 5, 6), (500, 40, 60, 400), (0, 3, 0, 0),
            (2, 0, 0, 0), (5000, 120, 80, 4800)]
    return [{"a": a, "b": b, "c": c, "d": d, "z": Z95,
             "low": paired_py(a, b, c, d, Z95)[0], "high": paired_py(a, b, c, d, Z95)[1]}
            for a, b, c, d in spec]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = {
        "generator": "Fixtures/Generators/make_statistics_cases.py",
        "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__,
                     "numpy": np.__version__},
        "wilson": wilson_cases(),
        "normal": normal_cases(),
        "two_proportion_z": ztest_cases(),
        "holm": holm_cases(),
        "mcnemar_exact": mcnemar_cases(),
        "newcombe_unpaired": unpaired_cases(),
        "newcombe_paired": paired_cases(),
    }
    path = os.path.join(root, "Fixtures", "statistics_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
