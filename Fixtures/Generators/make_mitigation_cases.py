#!/usr/bin/env python3
"""Writes Fixtures/mitigation/mitigation_cases.json: a small fixed set of embeddings (random
vectors of dimension 24 with a planted gender direction) and, computed here with numpy from
the contract's definitions (docs/audit-file.md, "Mitigations"), independently of clip-audit's
Swift code, what each mitigation makes of them:

- projection: P0 = I - A (A^T A)^-1 A^T (numpy.linalg.inv), each class embedding P0 c / |P0 c|;
- calibrated projection: M = mean over pairs of (z_i - z_j)(z_i - z_j)^T, P = P0 (I + lambda M)^-1
  (numpy.linalg.inv), per design from its phrases and, for retrieval, from the concepts;
- CLIP-clip: per dimension the decile-bin mutual information with gender over the fit images,
  the `dimensions` largest (ties: lower index) zeroed in images and classes, each normalised again;
- the predictions and confidences of every variant, and each metric's between-group gap and
  whole-set value before and after (the rows of mitigations.csv).

    python3 Fixtures/Generators/make_mitigation_cases.py     (numpy only)

The designs' own (unmitigated) predictions follow clip-audit's documented Float32 storage of
unit vectors (docs/audit-file.md, "Scoring"; README, numerics), replayed here element by element
so that "before" is the same set of predictions. A prediction whose top two logits are within
1e-7 is listed under `near_ties` (its arg-max is decided by rounding); tests skip those images
by name, and any gap of a variant with a near tie.
"""
import json
import math
import os

import numpy as np

RNG = np.random.default_rng(20261208)
D = 24
N_IMAGES = 160
N_FIT = 90
SCALE = 100.0
NEAR = 1e-7
f32 = np.float32


def seq_unit32(v):
    """ZeroShotScorer.normalize: norm summed in index order in double, each value rounded to Float."""
    s = 0.0
    for x in v:
        s += float(x) * float(x)
    n = math.sqrt(s)
    return [f32(float(x) / n) for x in v] if n > 0 else [f32(x) for x in v]


def unit64(v):
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


# ---------------------------------------------------------------- the embeddings

gender_dir = unit64(RNG.normal(size=D))
crime_dir = unit64(RNG.normal(size=D))
genders = ["Female", "Male"]
races = ["Black", "East Asian", "White"]


def image(gender, race):
    x = RNG.normal(size=D) * 0.6
    x += (1.0 if gender == "Male" else -1.0) * 1.1 * gender_dir
    if race == "Black":
        x += 0.35 * crime_dir  # the planted bias the crime design shows
    return [f32(v) for v in x]


images = []
for i in range(N_IMAGES):
    g = genders[RNG.integers(2)]
    r = races[RNG.integers(3)]
    images.append({"file": f"img{i:03d}.jpg", "gender": g, "race": r, "embedding": image(g, r)})
fit = []
for i in range(N_FIT):
    g = genders[i % 2]
    fit.append({"file": f"fit{i:03d}.jpg", "gender": g, "embedding": image(g, races[RNG.integers(3)])})

text = {}


def prompt(p, vector):
    text[p] = [f32(v) for v in vector]


templates = ["a photo of a {}.", "a picture of a {}."]
gender_classes = {"Male": ["man", "male person"], "Female": ["woman", "female person"]}
crime_classes = {"person": ["person"], "thief": ["thief", "criminal"], "doctor": ["doctor"]}
base = {}
for phrase in ["man", "male person", "woman", "female person", "person", "thief", "criminal", "doctor", "good", "criminal one"]:
    base[phrase] = RNG.normal(size=D) * 0.5
for phrase in ["man", "male person"]:
    base[phrase] += 1.3 * gender_dir
for phrase in ["woman", "female person"]:
    base[phrase] -= 1.3 * gender_dir
for phrase in ["thief", "criminal", "criminal one"]:
    base[phrase] += 0.9 * crime_dir + 0.4 * gender_dir
base["doctor"] += 0.3 * gender_dir
for phrase, vector in base.items():
    for t in templates:
        prompt(t.replace("{}", phrase), vector + RNG.normal(size=D) * 0.2)
attribute_prompts = ["a photo of a man.", "a photo of a woman."]
pair_template = "a photo of a {attribute} {class}."
attribute_words = ["male", "female"]
sign = {"male": 1.0, "female": -1.0}
retrieval_concepts = ["good", "criminal one"]
retrieval_template = "a picture of a {}."
for phrase in list(base):
    for w in attribute_words:
        p = pair_template.replace("{class}", phrase).replace("{attribute}", w)
        prompt(p, base[phrase] + sign[w] * 1.0 * gender_dir + RNG.normal(size=D) * 0.05)
LAMBDA = 50.0
DIMENSIONS = 3

designs = [
    {"name": "gender", "target": "gender", "classes": gender_classes, "harm": {}},
    {"name": "crime", "target": None, "classes": crime_classes, "harm": {"crime-related": ["thief"]}},
]
mitigations = [
    {"name": "gender-proj", "method": "projection", "designs": ["gender", "crime"]},
    {"name": "gender-cal", "method": "calibrated_projection", "designs": ["crime"]},
    {"name": "gender-clip", "method": "clip_clip", "designs": ["gender", "crime"]},
]


# ---------------------------------------------------------------- the designs as clip-audit scores them (Float32)

def prompts_of(design, cls):
    return [t.replace("{}", p) for t in templates for p in design["classes"][cls]]


def float_class(prompts):
    mean = [0.0] * D
    for p in prompts:
        u = seq_unit32(text[p])
        for i in range(D):
            mean[i] += float(u[i])
    s = 0.0
    for v in mean:
        s += v * v
    n = math.sqrt(s)
    return [f32(v / n) for v in mean]


def softmax_pick(logits):
    best = 0
    for c in range(1, len(logits)):
        if logits[c] > logits[best]:
            best = c
    top = max(logits)
    e = [math.exp(v - top) for v in logits]
    total = 0.0
    for v in e:
        total += v
    ordered = sorted(logits, reverse=True)
    return best, e[best] / total, ordered[0] - ordered[1]


def score_float(design, unit_images):
    classes = [float_class(prompts_of(design, c)) for c in design["classes"]]
    out = []
    for x in unit_images:
        logits = []
        for c in classes:
            dot = 0.0
            for i in range(D):
                dot += float(c[i]) * float(x[i])
            logits.append(SCALE * dot)
        out.append(softmax_pick(logits))
    return out


unit_images = [seq_unit32(im["embedding"]) for im in images]
unit_fit = [seq_unit32(f["embedding"]) for f in fit]


# ---------------------------------------------------------------- the mitigations, in float64 with numpy

def class64(prompts):
    return unit64(np.mean([unit64(np.asarray(text[p], dtype=np.float64)) for p in prompts], axis=0))


A = np.stack([unit64(np.asarray(text[p], dtype=np.float64)) for p in attribute_prompts], axis=1)
P0 = np.eye(D) - A @ np.linalg.inv(A.T @ A) @ A.T


def calibrated_matrix(phrases):
    diffs = []
    for phrase in phrases:
        zs = [unit64(np.asarray(text[pair_template.replace("{class}", phrase).replace("{attribute}", w)], dtype=np.float64))
              for w in attribute_words]
        for i in range(len(zs)):
            for j in range(i + 1, len(zs)):
                diffs.append(zs[i] - zs[j])
    M = sum(np.outer(v, v) for v in diffs) / len(diffs) if diffs else np.zeros((D, D))
    return P0 @ np.linalg.inv(np.eye(D) + LAMBDA * M)


def mutual_information(embeddings, labels):
    n = len(embeddings)
    groups = sorted(set(labels))
    gcount = {g: labels.count(g) for g in groups}
    out = []
    for j in range(D):
        order = sorted(range(n), key=lambda i: (float(embeddings[i][j]), i))
        cells = {}
        bcount = [0] * 10
        for rank, i in enumerate(order):
            b = (10 * rank) // n
            cells[(b, labels[i])] = cells.get((b, labels[i]), 0) + 1
            bcount[b] += 1
        mi = 0.0
        for b in range(10):
            for g in groups:
                joint = cells.get((b, g), 0)
                if joint > 0:
                    mi += joint / n * math.log(joint * n / (bcount[b] * gcount[g]))
        out.append(mi)
    return out


mi = mutual_information(unit_fit, [f["gender"] for f in fit])
ranked = sorted(range(D), key=lambda j: (-mi[j], j))
clipped = sorted(ranked[:DIMENSIONS])
mi_boundary_gap = mi[ranked[DIMENSIONS - 1]] - mi[ranked[DIMENSIONS]]


def clip(v):
    v = np.asarray(v, dtype=np.float64).copy()
    v[clipped] = 0
    return unit64(v)


def transform(mitigation, design_phrases):
    if mitigation["method"] == "projection":
        return lambda c: unit64(P0 @ c)
    if mitigation["method"] == "calibrated_projection":
        P = calibrated_matrix(design_phrases)
        return lambda c: unit64(P @ c)
    return clip


def score64(classes, xs):
    out = []
    for x in xs:
        logits = [SCALE * float(np.dot(c, x)) for c in classes]
        e = np.exp(np.array(logits) - max(logits))
        probs = e / e.sum()
        best = int(np.argmax(logits))  # first of equal maxima
        ordered = sorted(logits, reverse=True)
        out.append((best, float(probs[best]), ordered[0] - ordered[1]))
    return out


# ---------------------------------------------------------------- metrics

def rates(design, predictions):
    """Per metric: {attribute: {group: (count, n)}} and the whole-set (count, n)."""
    names = list(design["classes"])
    metrics = {}

    def add(metric, attr, group, hit, counted=True):
        if not counted:
            return
        cell = metrics.setdefault(metric, {}).setdefault(attr, {}).setdefault(group, [0, 0])
        cell[0] += int(hit)
        cell[1] += 1

    for im, (pred, _, _) in zip(images, predictions):
        cls = names[pred]
        for attr, group in [("*", "*"), ("gender", im["gender"]), ("race", im["race"])]:
            if design["target"]:
                add("accuracy", attr, group, cls == im[design["target"]])
            for cat, members in design["harm"].items():
                add(f"harm_rate:{cat}", attr, group, cls in members)
            for c in names:
                add(f"prediction_rate:{c}", attr, group, cls == c)
    return metrics


def gaps(metrics):
    out = {}
    for metric, by_attr in metrics.items():
        whole = by_attr["*"]["*"]
        for attr in ["gender", "race"]:
            values = [c / n for c, n in by_attr[attr].values() if n > 0]
            out[(metric, attr)] = (max(values) - min(values), whole[0] / whole[1])
    return out


cases = {"variants": [], "near_ties": [], "mitigation_rows": []}
before = {}
for design in designs:
    scored = score_float(design, unit_images)
    before[design["name"]] = gaps(rates(design, scored))
    for im, s in zip(images, scored):
        if s[2] < NEAR:
            cases["near_ties"].append({"variant": design["name"], "file": im["file"]})

for mitigation in mitigations:
    for name in mitigation["designs"]:
        design = next(d for d in designs if d["name"] == name)
        phrases = [p for c in design["classes"].values() for p in c]
        t = transform(mitigation, phrases)
        classes = [t(class64(prompts_of(design, c))) for c in design["classes"]]
        xs = [clip(x) if mitigation["method"] == "clip_clip" else np.asarray(x, dtype=np.float64) for x in unit_images]
        scored = score64(classes, xs)
        variant = f"{name}~{mitigation['name']}"
        for im, s in zip(images, scored):
            if s[2] < NEAR:
                cases["near_ties"].append({"variant": variant, "file": im["file"]})
        cases["variants"].append({
            "variant": variant,
            "class_embeddings": [[float(v) for v in c] for c in classes],
            "predicted": [list(design["classes"])[s[0]] for s in scored],
            "confidence": [s[1] for s in scored],
        })
        after = gaps(rates(design, scored))
        for (metric, attr), (gap, overall) in before[name].items():
            gap_after, overall_after = after[(metric, attr)]
            cases["mitigation_rows"].append({
                "mitigation": mitigation["name"], "design": name, "metric": metric, "attribute": attr,
                "gap_before": gap, "gap_after": gap_after, "overall_before": overall, "overall_after": overall_after,
            })

queries = [retrieval_template.replace("{}", c) for c in retrieval_concepts]
P_retrieval = calibrated_matrix(retrieval_concepts)
cases.update({
    "dimension": D,
    "logit_scale": SCALE,
    "lambda": LAMBDA,
    "dimensions": DIMENSIONS,
    "templates": templates,
    "attribute_prompts": attribute_prompts,
    "pair_template": pair_template,
    "attribute_words": attribute_words,
    "retrieval_template": retrieval_template,
    "retrieval_concepts": retrieval_concepts,
    "designs": [{"name": d["name"], "target": d["target"], "classes": [[c, p] for c, p in d["classes"].items()],
                 "harm": d["harm"]} for d in designs],
    "mitigations": mitigations,
    "text": {p: [float(v) for v in e] for p, e in text.items()},
    "images": [{"file": im["file"], "gender": im["gender"], "race": im["race"], "embedding": [float(v) for v in im["embedding"]]}
               for im in images],
    "fit": [{"file": f["file"], "gender": f["gender"], "embedding": [float(v) for v in f["embedding"]]} for f in fit],
    "projection_matrix": [[float(v) for v in row] for row in P0],
    "clip_clip_mutual_information": mi,
    "clip_clip_dimensions": clipped,
    "clip_clip_boundary_gap": mi_boundary_gap,
    "retrieval_queries": queries,
    "retrieval_calibrated": [[float(v) for v in unit64(P_retrieval @ unit64(np.asarray(text[q], dtype=np.float64)))] for q in queries],
})
assert mi_boundary_gap > 1e-9, "the CLIP-clip choice is decided by rounding: pick another seed"
out = os.path.join(os.path.dirname(__file__), "..", "mitigation", "mitigation_cases.json")
with open(out, "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
print(f"wrote {out}: {len(cases['variants'])} variants, {len(cases['near_ties'])} near ties, "
      f"clipped {clipped}, rows {len(cases['mitigation_rows'])}")
