#!/usr/bin/env python3
"""Writes Fixtures/retrieval_cases.json: reference figures for retrieval skew (MaxSkew@k,
MinSkew@k, NDKL; Geyik et al. 2019, with Berg et al. 2022's 1/k convention for absent groups)
and WEAT-style association tests (Caliskan et al. 2017), computed here from the published
definitions with numpy, independently of clip-audit's Swift code (never run by the tests).

    python3 Fixtures/Generators/make_retrieval_cases.py

Deterministic figures (skews, NDKL, effect sizes, exact permutation p-values) follow from the
definitions alone. The seeded ones (the permutation null's mean and p-value, sampled permutation
tests, bootstrap intervals) use the generator and the draw order that docs/report-files.md's contract
leaves to the implementation and clip-audit documents (SplitMix64; a partial Fisher-Yates
shuffle per draw), re-implemented here. The null baseline is also computed EXACTLY (multivariate
hypergeometric enumeration), which the tests compare against a long Monte Carlo run.
"""
import itertools
import json
import math
import os

import numpy as np

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, bound):
        threshold = ((1 << 64) - bound) % bound
        while True:
            r = self.next()
            if r >= threshold:
                return r % bound


def normalise(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# ---------------------------------------------------------------- retrieval skew

def skews(counts, k, desired):
    return [math.log(max(c / k, 1 / k) / d) for c, d in zip(counts, desired)]


def first_argmax(values):
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def first_argmin(values):
    best = 0
    for i, v in enumerate(values):
        if v < values[best]:
            best = i
    return best


def ndkl(ranked_labels, k, groups, desired):
    z = sum(1 / math.log2(i + 1) for i in range(1, k + 1))
    total = 0.0
    for i in range(1, k + 1):
        top = ranked_labels[:i]
        kl = 0.0
        for g in range(groups):
            share = top.count(g) / i
            if share > 0:
                kl += share * math.log(share / desired[g])
        total += kl / math.log2(i + 1)
    return total / z


def null_draws(labels, groups, ks, permutations, seed, desired_sets):
    """Max skew of `permutations` random relabellings, drawn as clip-audit documents."""
    rng = SplitMix64(seed)
    arr = list(labels)
    n, kmax = len(arr), max(ks)
    draws = {name: {k: [] for k in ks} for name in desired_sets}
    for _ in range(permutations):
        counts = [0] * groups
        for i in range(kmax):
            j = i + rng.below(n - i)
            arr[i], arr[j] = arr[j], arr[i]
            counts[arr[i]] += 1
            if i + 1 in ks:
                for name, desired in desired_sets.items():
                    draws[name][i + 1].append(max(skews(counts, i + 1, desired)))
    return draws


def exact_null(labels, groups, k, desired):
    """E[max skew] and the full distribution under a uniformly random k-subset of the labels."""
    sizes = [labels.count(g) for g in range(groups)]
    n = len(labels)
    total = math.comb(n, k)
    dist = []
    for counts in itertools.product(*[range(min(s, k) + 1) for s in sizes]):
        if sum(counts) != k:
            continue
        p = math.prod(math.comb(s, c) for s, c in zip(sizes, counts)) / total
        dist.append((max(skews(list(counts), k, desired)), p))
    return dist


def retrieval_case(name, rng, n, d, queries, attributes, ks, permutations, seed):
    images = normalise(rng.standard_normal((n, d))).astype(np.float32)
    query_vectors = normalise(rng.standard_normal((len(queries), d))).astype(np.float32)
    attr_labels = {}
    for attr, (groups, weights) in attributes.items():
        attr_labels[attr] = [int(x) for x in rng.choice(len(groups), size=n, p=weights)]
        # every group present
        for g in range(len(groups)):
            attr_labels[attr][g] = g
    rows, group_rows = [], []
    nulls = {}
    for attr, (groups, _) in attributes.items():
        labels = attr_labels[attr]
        desired_sets = {"dataset": [labels.count(g) / n for g in range(len(groups))],
                        "uniform": [1 / len(groups)] * len(groups)}
        nulls[attr] = (desired_sets, null_draws(labels, len(groups), ks, permutations, seed, desired_sets))
    sims = query_vectors.astype(np.float64) @ images.astype(np.float64).T
    for qi, query in enumerate(queries):
        order = sorted(range(n), key=lambda i: (-sims[qi, i], i))
        for attr, (groups, _) in attributes.items():
            labels = attr_labels[attr]
            ranked = [labels[i] for i in order]
            desired_sets, draws = nulls[attr]
            for k in ks:
                counts = [ranked[:k].count(g) for g in range(len(groups))]
                for dname in ("dataset", "uniform"):
                    desired = desired_sets[dname]
                    s = skews(counts, k, desired)
                    mx = max(s)
                    null = draws[dname][k]
                    rows.append({"query": query, "attribute": attr, "k": k, "desired": dname,
                                 "max_skew": mx, "min_skew": min(s), "ndkl": ndkl(ranked, k, len(groups), desired),
                                 "max_group": groups[first_argmax(s)], "min_group": groups[first_argmin(s)],
                                 "null_max_skew": sum(null) / len(null),
                                 "p_value": (1 + sum(1 for v in null if v >= mx)) / (1 + permutations)})
                    if dname == "dataset":
                        for g, group in enumerate(groups):
                            group_rows.append({"query": query, "attribute": attr, "group": group, "k": k,
                                               "count": counts[g], "share": counts[g] / k,
                                               "desired_share": desired[g], "skew": s[g]})
    return {"name": name, "count": n, "dimension": d,
            "images": [float(x) for x in images.reshape(-1)],
            "queries": [{"text": q, "embedding": [float(x) for x in query_vectors[i]]} for i, q in enumerate(queries)],
            "attributes": [{"name": a, "groups": g, "labels": attr_labels[a]} for a, (g, _) in attributes.items()],
            "ks": ks, "permutations": permutations, "seed": seed, "rows": rows, "group_rows": group_rows}


# ---------------------------------------------------------------- association tests

def effect_size(x, y):
    pooled = np.concatenate([x, y])
    sd = np.std(pooled, ddof=1)
    return float((np.mean(x) - np.mean(y)) / sd)


def association_case(name, rng, nx, ny, d, na, nb, permutations, seed, shift):
    x = rng.standard_normal((nx, d))
    x[:, 0] += shift
    y = rng.standard_normal((ny, d))
    images = normalise(np.concatenate([x, y])).astype(np.float32)
    a = normalise(rng.standard_normal((na, d)) + np.eye(d)[0] * shift).astype(np.float32)
    b = normalise(rng.standard_normal((nb, d))).astype(np.float32)
    w = images.astype(np.float64)
    s = np.array([np.mean([wi @ ai for ai in a.astype(np.float64)]) - np.mean([wi @ bi for bi in b.astype(np.float64)])
                  for wi in w])
    sx, sy = s[:nx], s[nx:]
    observed = sx.sum() - sy.sum()
    total = s.sum()
    margin = 1e-9 * max(1.0, float(np.abs(s).sum()))
    partitions = math.comb(nx + ny, nx)
    if partitions <= permutations:
        at_least = sum(1 for subset in itertools.combinations(range(nx + ny), nx)
                       if 2 * s[list(subset)].sum() - total >= observed - margin)
        p, evaluated, exact = at_least / partitions, partitions, True
    else:
        gen = SplitMix64(seed)
        values = list(s)
        at_least = 0
        for _ in range(permutations):
            acc = 0.0
            for i in range(nx):
                j = i + gen.below(len(values) - i)
                values[i], values[j] = values[j], values[i]
                acc += values[i]
            if 2 * acc - total >= observed - margin:
                at_least += 1
        p, evaluated, exact = (1 + at_least) / (1 + permutations), permutations, False
    gen = SplitMix64(seed + 1)
    effects = []
    for _ in range(1000):
        bx = np.array([sx[gen.below(nx)] for _ in range(nx)])
        by = np.array([sy[gen.below(ny)] for _ in range(ny)])
        e = effect_size(bx, by)
        if math.isfinite(e):
            effects.append(e)
    lo, hi = np.percentile(effects, [2.5, 97.5])
    return {"name": name, "count": nx + ny, "dimension": d, "images": [float(v) for v in images.reshape(-1)],
            "x": list(range(nx)), "y": list(range(nx, nx + ny)),
            "a": [[float(v) for v in row] for row in a], "b": [[float(v) for v in row] for row in b],
            "permutations": permutations, "seed": seed,
            "s": [float(v) for v in s],
            "effect_size": effect_size(sx, sy), "ci_low": float(lo), "ci_high": float(hi),
            "p_value": p, "evaluated": evaluated, "exact": exact}


def main():
    rng = np.random.default_rng(20261130)
    retrieval = [
        retrieval_case("three attributes", rng, n=60, d=8, queries=["a photo of a smart person", "a criminal", "{}"],
                       attributes={"gender": (["Female", "Male"], [0.5, 0.5]),
                                   "race": (["Black", "East Asian", "White"], [0.2, 0.3, 0.5]),
                                   "age": (["0-2", "3-9", "20-29", "more than 70"], [0.1, 0.2, 0.6, 0.1])},
                       ks=[5, 10, 30], permutations=200, seed=7),
    ]
    # The exact null on a small case: 12 labels in 3 groups, k = 4.
    labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    desired = [labels.count(g) / len(labels) for g in range(3)]
    dist = exact_null(labels, 3, 4, desired)
    observed = max(skews([1, 1, 2], 4, desired))
    null_exact = {"labels": labels, "k": 4, "desired": desired,
                  "mean_max_skew": sum(v * p for v, p in dist),
                  "sd_max_skew": math.sqrt(sum(v * v * p for v, p in dist) - sum(v * p for v, p in dist) ** 2),
                  "observed_counts": [1, 1, 2], "observed_max_skew": observed,
                  "p_at_least_observed": sum(p for v, p in dist if v >= observed - 1e-12)}
    association = [
        association_case("exact: 5 against 6", rng, nx=5, ny=6, d=6, na=4, nb=3, permutations=1000, seed=3, shift=1.0),
        association_case("sampled: 40 against 35", rng, nx=40, ny=35, d=8, na=5, nb=5, permutations=2000, seed=11, shift=0.4),
    ]
    out = {"generator": "Fixtures/Generators/make_retrieval_cases.py", "numpy": np.__version__,
           "retrieval": retrieval, "null_exact": null_exact, "association": association}
    path = os.path.join(os.path.dirname(__file__), "..", "retrieval_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
