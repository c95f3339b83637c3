#!/usr/bin/env python3
"""Writes Fixtures/seeded_statistics_cases.json: references for clip-audit's seeded statistics
(the association test's permutation p-value and bootstrap interval, the retrieval null's mean and
p-value) that share nothing with clip-audit's random-number scheme.

    python3 Fixtures/Generators/make_seeded_statistics_cases.py     # numpy and scipy

make_retrieval_cases.py re-implements clip-audit's generator (SplitMix64 and its draw order), so
its seeded figures pin the draws, not the statistics. The figures here are either exact or drawn
with numpy's own generator, and the tests compare clip-audit's seeded figures with them within
Monte Carlo bands (5 standard errors): a wrong draw scheme, a biased shuffle or a wrong count
moves a figure out of its band; a different seed does not.

- Association p-value, small X and Y: every re-partition of X u Y enumerated here
  (itertools.combinations), so the exact p is known; clip-audit samples when asked for fewer
  permutations than there are partitions, and enumerates when asked for at least as many.
- Association p-value, large X and Y: scipy.stats.permutation_test (independent samples,
  one-sided) with 200,000 resamples from numpy's generator.
- Bootstrap interval: scipy.stats.bootstrap (each sample resampled separately, percentile
  method), run 2,000 times at clip-audit's 1,000 resamples, so the spread of an endpoint at that
  resample count is measured rather than assumed.
- Retrieval null: under a random relabelling the top k is a uniform k-subset of the labels, so
  the null's max-skew distribution is a multivariate hypergeometric one, enumerated exactly here
  for every attribute x k x desired of the case in retrieval_cases.json (whose observed figures
  come from the numpy implementation there). A numpy permutation run checks the enumeration.
"""
import itertools
import json
import math
import os

import numpy as np
import scipy
from scipy import stats

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- association tests

def statistic(sx, sy):
    """S = sum_X s - sum_Y s (the contract's statistic)."""
    return float(np.sum(sx) - np.sum(sy))


def exact_p(s, nx):
    """One-sided p over every re-partition of the pooled values into |X| and |Y|: the share of
    partitions whose statistic is at least the observed one (the observed partition included)."""
    s = np.asarray(s, dtype=np.float64)
    total = s.sum()
    observed = 2 * s[:nx].sum() - total
    margin = 1e-9 * max(1.0, float(np.abs(s).sum()))
    count = 0
    partitions = 0
    for subset in itertools.combinations(range(len(s)), nx):
        partitions += 1
        if 2 * s[list(subset)].sum() - total >= observed - margin:
            count += 1
    return count / partitions, partitions


def effect(x, y, axis=-1):
    pooled = np.concatenate([x, y], axis=axis)
    return (np.mean(x, axis=axis) - np.mean(y, axis=axis)) / np.std(pooled, axis=axis, ddof=1)


def bootstrap_band(sx, sy, resamples, repeats, seed):
    """clip-audit's interval is a percentile bootstrap of `resamples` resamples; the spread of its
    endpoints over independent runs (scipy, numpy's generator) is the band it must fall in."""
    rng = np.random.default_rng(seed)
    lows, highs = [], []
    for _ in range(repeats):
        r = stats.bootstrap((sx, sy), effect, n_resamples=resamples, method="percentile",
                            vectorized=True, paired=False, random_state=rng)
        lows.append(r.confidence_interval.low)
        highs.append(r.confidence_interval.high)
    big = stats.bootstrap((sx, sy), effect, n_resamples=200_000, method="percentile",
                          vectorized=True, paired=False, random_state=rng, batch=20_000)
    return {"resamples": resamples, "repeats": repeats,
            "low_mean": float(np.mean(lows)), "low_sd": float(np.std(lows, ddof=1)),
            "high_mean": float(np.mean(highs)), "high_sd": float(np.std(highs, ddof=1)),
            "low_200k": float(big.confidence_interval.low), "high_200k": float(big.confidence_interval.high)}


def association_cases(rng):
    cases = []
    # Small: C(17, 8) = 24,310 partitions, enumerated. Three shifts of X, so that the p-values
    # spread (with this generator's draws: about 0.45, 0.003 and 0.15) and the band is tested
    # where it is wide and where it is narrow.
    for name, shift in (("8 against 9, shift 0", 0.0), ("8 against 9, shift 0.9", 0.9),
                        ("8 against 9, shift 1.6", 1.6)):
        sx = rng.standard_normal(8) * 0.05 + shift * 0.05
        sy = rng.standard_normal(9) * 0.05
        s = np.concatenate([sx, sy])
        p, partitions = exact_p(s, 8)
        cases.append({"name": name, "s": [float(v) for v in s], "x": list(range(8)), "y": list(range(8, 17)),
                      "effect_size": float(effect(sx, sy)), "statistic": statistic(sx, sy),
                      "p_reference": p, "reference": "exact enumeration", "reference_draws": 0,
                      "partitions": partitions,
                      "bootstrap": bootstrap_band(sx, sy, 1000, 2000, seed=len(cases) + 1)})
    # Large: C(75, 40) ~ 1e21 partitions; scipy's permutation test with numpy's generator.
    for name, shift in (("40 against 35, shift 0", 0.0), ("40 against 35, shift 0.45", 0.45)):
        sx = rng.standard_normal(40) * 0.05 + shift * 0.05
        sy = rng.standard_normal(35) * 0.05
        s = np.concatenate([sx, sy])
        draws = 200_000
        r = stats.permutation_test((sx, sy), lambda a, b, axis: np.sum(a, axis=axis) - np.sum(b, axis=axis),
                                   permutation_type="independent", alternative="greater", n_resamples=draws,
                                   vectorized=True, random_state=np.random.default_rng(100 + len(cases)))
        cases.append({"name": name, "s": [float(v) for v in s], "x": list(range(40)), "y": list(range(40, 75)),
                      "effect_size": float(effect(sx, sy)), "statistic": statistic(sx, sy),
                      "p_reference": float(r.pvalue), "reference": "scipy.stats.permutation_test",
                      "reference_draws": draws, "partitions": None,
                      "bootstrap": bootstrap_band(sx, sy, 1000, 2000, seed=len(cases) + 1)})
    return cases


# ---------------------------------------------------------------- retrieval null

def skews(counts, k, desired):
    return [math.log(max(c, 1) / k / d) for c, d in zip(counts, desired)]


def exact_null(labels, groups, k, desired):
    """(max skew, probability) over every group-count vector of a uniform k-subset."""
    sizes = [labels.count(g) for g in range(groups)]
    total = math.comb(len(labels), k)
    out = []
    for counts in itertools.product(*[range(min(s, k) + 1) for s in sizes]):
        if sum(counts) != k:
            continue
        p = math.prod(math.comb(s, c) for s, c in zip(sizes, counts)) / total
        out.append((max(skews(counts, k, desired)), p))
    return out


def numpy_null_mean(labels, groups, k, desired, draws, rng):
    arr = np.asarray(labels)
    values = np.empty(draws)
    for i in range(draws):
        top = rng.permutation(arr)[:k]
        values[i] = max(skews(np.bincount(top, minlength=groups).tolist(), k, desired))
    return float(values.mean()), float(values.std(ddof=1))


def retrieval_null_cases(rng):
    with open(os.path.join(ROOT, "Fixtures", "retrieval_cases.json")) as f:
        case = json.load(f)["retrieval"][0]
    attributes = {a["name"]: a for a in case["attributes"]}
    n = case["count"]
    nulls = {}
    rows = []
    for row in case["rows"]:
        attr = attributes[row["attribute"]]
        groups, labels, k = len(attr["groups"]), attr["labels"], row["k"]
        desired = ([labels.count(g) / n for g in range(groups)] if row["desired"] == "dataset"
                   else [1 / groups] * groups)
        key = (row["attribute"], k, row["desired"])
        if key not in nulls:
            dist = exact_null(labels, groups, k, desired)
            mean = sum(v * p for v, p in dist)
            sd = math.sqrt(max(0.0, sum(v * v * p for v, p in dist) - mean * mean))
            mc_mean, mc_sd = numpy_null_mean(labels, groups, k, desired, 20_000, rng)
            # The enumeration and numpy's permutations agree (5 standard errors), so neither is wrong.
            assert abs(mc_mean - mean) < 5 * sd / math.sqrt(20_000) + 1e-12, (key, mean, mc_mean)
            nulls[key] = (dist, mean, sd)
        dist, mean, sd = nulls[key]
        p = sum(q for v, q in dist if v >= row["max_skew"] - 1e-12)
        rows.append({"query": row["query"], "attribute": row["attribute"], "k": k, "desired": row["desired"],
                     "max_skew": row["max_skew"], "null_mean": mean, "null_sd": sd, "p_exact": p})
    return {"source": "Fixtures/retrieval_cases.json retrieval[0]", "rows": rows}


def main():
    rng = np.random.default_rng(20261207)
    out = {"generator": "Fixtures/Generators/make_seeded_statistics_cases.py",
           "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
           "association": association_cases(rng),
           "retrieval_null": retrieval_null_cases(rng)}
    path = os.path.join(ROOT, "Fixtures", "seeded_statistics_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
