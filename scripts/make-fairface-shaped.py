#!/usr/bin/env python3
"""Writes a FairFace-shaped audit for checking report lengths and layout without FairFace.

    scripts/make-fairface-shaped.py OUT_DIR [ROWS]

OUT_DIR gets images/ (copies of the fixture images, each made a distinct file by a few bytes
appended after the image data), manifest.csv with FairFace's columns and labels, and audit.yaml:
the designs of Audits/fairface.yaml (retrieval and association sections left out) run against
the tiny fixture model. Labels are drawn with a fixed seed and lean on the source image, so some
groups differ; the numbers exercise the report, they say nothing about CLIP.
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
audit = re.sub(r"(?m)^model: .*$", "model: %s" % os.path.join(root, "Fixtures", "clip-reference", "tiny-clip"), audit)
audit = re.sub(r"(?m)^  path: .*$", "  path: manifest.csv", audit)
audit = re.sub(r"(?m)^  image_root: .*$", "  image_root: .", audit)
if "\ndataset:" not in audit:
    audit = audit.replace("\nattributes:", "\ndataset: {id: HuggingFaceM4/FairFace, split: validation}\nattributes:", 1)
open(os.path.join(out, "audit.yaml"), "w").write(audit)
print(os.path.join(out, "audit.yaml"))
