#!/usr/bin/env python3
"""Writes Fixtures/statistics_cases.json: reference values for the statistics in
Sources/AuditEngine/Statistics, computed with scipy and statsmodels (never with clip-audit).

    python3 -m venv /tmp/statsvenv && /tmp/statsvenv/bin/pip install scipy statsmodels
    /tmp/statsvenv/bin/python Fixtures/Generators/make_statistics_cases.py

The one statistic neither library offers, Newcombe's square-and-add interval for a paired
difference (method 10 of Newcombe 1998b), is computed here by a transcription of the paper, in
its notation, that must reproduce every worked example of the paper (asserted below)
before its figures for further tables are written.
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
    """Newcombe (1998a) method 3, the Wilson score interval, as the papers give it."""
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def newcombe_1998b_method10(e, f, g, h, z):
    """Method 10 of Newcombe (1998b), "Improved confidence intervals for the difference between
    binomial proportions based on paired data", Stat Med 17:2635-2650, in the paper's notation
    (written from the paper, not from clip-audit's code).

    The paired table: e = both positive, f = first only, g = second only, h = neither; n pairs.
    theta = (f - g)/n = p1 - p2 with p1 = (e+f)/n, p2 = (e+g)/n; (l2, u2) and (l3, u3) are the
    Wilson limits of p1 and p2. With phi the correlation of the table corrected towards zero,
        phi = C / sqrt((e+f)(g+h)(e+g)(f+h)),  C = eh - fg - n/2 if eh - fg > n/2,
                                                C = 0 if 0 <= eh - fg <= n/2,  C = eh - fg if eh - fg < 0,
        phi = 0 when a margin is empty,
    delta = sqrt((p1-l2)^2 - 2 phi (p1-l2)(u3-p2) + (u3-p2)^2),
    eps   = sqrt((u2-p1)^2 - 2 phi (u2-p1)(p2-l3) + (p2-l3)^2),
    and the interval is (theta - delta, theta + eps). Returns the limits and the branch taken."""
    n = e + f + g + h
    p1, p2 = (e + f) / n, (e + g) / n
    l2, u2 = wilson_py(e + f, n, z)
    l3, u3 = wilson_py(e + g, n, z)
    margins = [e + f, g + h, e + g, f + h]
    cross = e * h - f * g
    if 0 in margins:
        c, branch = 0.0, "empty margin"
    elif cross > n / 2:
        c, branch = cross - n / 2, "eh - fg > n/2"
    elif cross >= 0:
        c, branch = 0.0, "0 <= eh - fg <= n/2"
    else:
        c, branch = float(cross), "eh - fg < 0"
    phi = 0.0 if 0 in margins else c / math.sqrt(math.prod(float(m) for m in margins))
    theta = (f - g) / n
    delta = math.sqrt((p1 - l2) ** 2 - 2 * phi * (p1 - l2) * (u3 - p2) + (u3 - p2) ** 2)
    eps = math.sqrt((u2 - p1) ** 2 - 2 * phi * (u2 - p1) * (p2 - l3) + (p2 - l3) ** 2)
    return max(-1.0, theta - delta), min(1.0, theta + eps), branch


# Newcombe (1998b), the paper's table of worked examples: the 18 tables (e, f, g, h) with their
# method-10 limits, published to four decimals. They take every branch of phi: eh - fg below 0
# (36, 12, 2, 0), between 0 and n/2 (1, 98, 0, 1), above n/2 (20, 12, 2, 16), and an empty margin
# (g + h = 0 in (36, 14, 0, 0), e + g = 0 in (0, 30, 0, 0), f + h = 0 in (54, 0, 0, 0)); also
# phi = -1 (0, 29, 1, 0), no discordant pairs, and an upper limit of 1.
NEWCOMBE_1998B_EXAMPLES = [
    (36, 12, 2, 0, 0.0569, 0.3404), (20, 12, 2, 16, 0.0562, 0.3292), (18, 12, 2, 18, 0.0562, 0.3290),
    (36, 14, 0, 0, 0.1528, 0.4167), (35, 14, 0, 1, 0.1461, 0.4175), (18, 14, 0, 18, 0.1441, 0.3963),
    (2, 97, 1, 0, 0.8721, 0.9854), (1, 97, 1, 1, 0.8736, 0.9850), (0, 29, 1, 0, 0.6666, 0.9882),
    (2, 98, 0, 0, 0.9178, 0.9945), (1, 98, 0, 1, 0.9171, 0.9916), (0, 30, 0, 0, 0.8395, 1.0),
    (54, 0, 0, 0, -0.0664, 0.0664), (53, 0, 0, 1, -0.0729, 0.0729), (30, 0, 0, 24, -0.0358, 0.0358),
    (29, 0, 0, 25, -0.0354, 0.0354), (28, 0, 0, 26, -0.0352, 0.0352), (27, 0, 0, 27, -0.0351, 0.0351),
]


def paired_published_cases():
    out = []
    for e, f, g, h, low, high in NEWCOMBE_1998B_EXAMPLES:
        lo, hi, branch = newcombe_1998b_method10(e, f, g, h, Z95)
        # The transcription reproduces every published limit to the last digit, but one: (1, 97, 1, 1)
        # gives 0.87367, printed 0.8736 (the paper's z or its rounding); one unit of the fourth decimal.
        assert abs(lo - low) <= 1e-4 and abs(hi - high) <= 1e-4, (e, f, g, h, lo, hi, low, high)
        out.append({"e": e, "f": f, "g": g, "h": h, "low": low, "high": high, "branch": branch,
                    "source": "Newcombe 1998b, worked examples, method 10"})
    return out


def paired_cases():
    """The paper transcription on more tables: every branch, large n, z other than 1.96."""
    spec = [(59, 6, 16, 80), (1, 1, 7, 12), (14, 5, 0, 22), (36, 12, 2, 0), (0, 0, 0, 10),
            (10, 0, 0, 0), (0, 5, 0, 5), (3, 4, 5, 6), (500, 40, 60, 400), (0, 3, 0, 0),
            (2, 0, 0, 0), (5000, 120, 80, 4800), (20, 12, 2, 16), (35, 14, 0, 1), (1, 98, 0, 1),
            (0, 29, 1, 0), (53, 0, 0, 1), (4, 3, 3, 4), (5, 2, 2, 5), (7, 1, 9, 0), (0, 7, 9, 0),
            (120000, 3000, 2500, 90000), (1, 0, 0, 1), (0, 1, 1, 0)]
    cases = []
    for z in (Z95, 2.5758293035489):
        for a, b, c, d in spec:
            lo, hi, branch = newcombe_1998b_method10(a, b, c, d, z)
            cases.append({"a": a, "b": b, "c": c, "d": d, "z": z, "low": lo, "high": hi, "branch": branch})
    branches = {c["branch"] for c in cases}
    assert branches == {"empty margin", "eh - fg > n/2", "0 <= eh - fg <= n/2", "eh - fg < 0"}, branches
    return cases


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
        "newcombe_paired_published": paired_published_cases(),
    }
    path = os.path.join(root, "Fixtures", "statistics_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
