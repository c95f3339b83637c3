#!/usr/bin/env python3
"""Writes a synthetic, FairFace-shaped audit: FairFace's columns, labels and group sizes on copies
of the repository's fixture images, for checking report lengths, layout and speed at FairFace's
scale without FairFace. It is NOT FairFace and says nothing about CLIP.

    scripts/make-fairface-shaped.py OUT_DIR [ROWS]

Arguments:
    OUT_DIR   folder to write (created if missing; files of the same names are replaced)
    ROWS      manifest rows, i.e. images (default 400)

How: OUT_DIR gets images/ (ROWS copies of the fixture images, each made a distinct file by a few
bytes appended after the image data), manifest.csv with FairFace's columns and label values
(file, age, gender, race, service_test), drawn with a fixed seed and half of them tied to the
source image so that some groups differ, and audit.yaml: the designs of Audits/fairface.yaml
(retrieval and association sections left out) run against the tiny random-weight fixture model.
The audit file says what it is: its name and description say "synthetic, FairFace-shaped", and
its FairFace header comments and `dataset:` key are dropped, so neither the report nor `card`'s
model-index names FairFace as the data. (The designs' `published:` figures stay, to exercise
that part of the report; beside made-up data they are layout, not a comparison.) Prints the
audit file's path.
"""
import os
import random
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.abspath(sys.argv[1])
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 400
fixtures = os.path.join(root, "Fixtures", "clip-reference", "images")
sources = sorted(f for f in os.listdir(fixtures) if f.endswith((".png", ".jpg")) and "16" not in f)
races = ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"]
ages = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
os.makedirs(os.path.join(out, "images"), exist_ok=True)
rng = random.Random(13)
lines = ["file,age,gender,race,service_test"]
for i in range(rows):
    k = i % len(sources)
    source = sources[k]
    data = open(os.path.join(fixtures, source), "rb").read() + b"distinct%d" % i
    name = "img%04d%s" % (i, os.path.splitext(source)[1])
    open(os.path.join(out, "images", name), "wb").write(data)
    # Half the rows take a label tied to the image, so predictions and groups correlate.
    race = races[k % len(races)] if rng.random() < 0.5 else rng.choice(races)
    gender = ["Male", "Female"][k % 2] if rng.random() < 0.5 else rng.choice(["Male", "Female"])
    age = ages[(k * 2) % len(ages)] if rng.random() < 0.5 else rng.choice(ages)
    lines.append("images/%s,%s,%s,%s,True" % (name, age, gender, race))
open(os.path.join(out, "manifest.csv"), "w").write("\n".join(lines) + "\n")

audit = open(os.path.join(root, "Audits", "fairface.yaml")).read()
audit = audit[:audit.index("\nretrieval:")] + "\n"
# From `name:` on: the header comments describe FairFace and how to get it, not this data.
audit = audit[audit.index("\nname:") + 1:]
audit = re.sub(r"(?m)^name: .*$", "name: fairface-shaped-synthetic", audit, count=1)
audit = re.sub(
    r"(?m)^description: >\n(?:  .*\n)+",
    lambda _: (
        "description: >\n"
        "  Synthetic, FairFace-shaped data: %d copies of the repository's fixture images with made-up\n"
        "  FairFace-style labels, scored by the tiny random-weight fixture model. Not FairFace: the\n"
        "  numbers exercise the report and say nothing about CLIP.\n" % rows),
    audit, count=1)
# No `dataset:`: made-up data must not be named as FairFace in `card`'s model-index.
audit = re.sub(r"(?m)^dataset: .*\n", "", audit)
audit = re.sub(r"(?m)^model: .*$", "model: %s" % os.path.join(root, "Fixtures", "clip-reference", "tiny-clip"), audit)
audit = re.sub(r"(?m)^  path: .*$", "  path: manifest.csv", audit)
audit = re.sub(r"(?m)^  image_root: .*$", "  image_root: .", audit)
header = (
    "# Synthetic, FairFace-shaped audit written by scripts/make-fairface-shaped.py: made-up labels\n"
    "# on copies of the fixture images, the tiny random-weight model. Not FairFace; says nothing about CLIP.\n")
audit = header + audit
open(os.path.join(out, "audit.yaml"), "w").write(audit)
print(os.path.join(out, "audit.yaml"))
