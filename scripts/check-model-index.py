#!/usr/bin/env python3
"""Checks that `clip-audit card` model-index files paste into Hugging Face model cards.

    scripts/check-model-index.py CARD_DIR/model-index.yaml            # one model's card
    scripts/check-model-index.py CARD_DIR/model-index-*.yaml          # a several-model top folder

Each file is wrapped in a model card's YAML front matter and read with huggingface_hub's own
parser (`ModelCard` -> `ModelCardData` -> `EvalResult`s), as the Hub does. A card's metadata
describes one model: huggingface_hub reads every entry of a `model-index` list as results of
ONE model named after the last entry, so the check first reads the block as plain YAML and
requires exactly one entry, then requires that the parsed name is that entry's name and that
the parsed results hold exactly the entry's metrics (so nothing is lost or merged). Then it
checks what the Hub shows: the name is a repo id (not a path), each metric named by its group,
the group and n in `args` and never in the dataset's `split`, the dataset an id (not a file).
Exit 0 and one summary line per file, or exit 1 with the first problem.
Needs `pip install huggingface_hub` (PyPI; it brings PyYAML).
"""
import sys

try:
    import yaml
    from huggingface_hub import ModelCard
except ImportError:
    sys.exit("check-model-index: huggingface_hub is not installed (pip install huggingface_hub)")


def fail(path, problem):
    sys.exit("check-model-index: %s: %s" % (path, problem))


def check(path):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as error:
        fail(path, error.strerror or str(error))
    raw = (yaml.safe_load(text) or {}).get("model-index")
    if not isinstance(raw, list) or not raw:
        fail(path, "no model-index list")
    names = [entry.get("name") for entry in raw]
    counts = [sum(len(r.get("metrics") or []) for r in entry.get("results") or []) for entry in raw]
    if len(raw) != 1:
        # What the Hub would show: one model, the last name, every entry's metrics together.
        fail(
            path,
            "%d models in one model-index (%s); a model card describes one model, and huggingface_hub "
            "reads this as one model named %r with %d metrics" % (
                len(raw), ", ".join("%r: %d metrics" % nc for nc in zip(names, counts)), names[-1], sum(counts)))
    card = ModelCard("---\n" + text + "---\n\n# Model\n")
    data = card.data
    results = data.eval_results or []
    if not results:
        fail(path, "no eval results parsed")
    name = data.model_name
    if name != names[0]:
        fail(path, "huggingface_hub reads the model name as %r, the file says %r" % (name, names[0]))
    if len(results) != counts[0]:
        fail(path, "huggingface_hub reads %d metrics, the file has %d" % (len(results), counts[0]))
    if not name or name.startswith(("/", ".", "~")) or name.count("/") > 1:
        fail(path, "model name %r is not a Hub repo id" % name)
    tasks = {r.task_name for r in results}
    for r in results:
        if not r.metric_name or "(" not in r.metric_name:
            fail(path, "metric %r is not named by its group" % r.metric_name)
        if not isinstance(r.metric_args, dict) or "group" not in r.metric_args or "n" not in r.metric_args:
            fail(path, "metric %r has no group and n in args" % r.metric_name)
        if r.dataset_split and any(c in r.dataset_split for c in ":|_") and r.dataset_split != "validation":
            fail(path, "split %r looks like a group" % r.dataset_split)
        if r.dataset_type.endswith(".csv") or r.dataset_type.startswith("/"):
            fail(path, "dataset type %r is a file, not a dataset id" % r.dataset_type)
    print("model-index ok: %s: %s, %d designs, %d metrics, dataset %s%s" % (
        path, name, len(tasks), len(results), results[0].dataset_type,
        " (%s)" % results[0].dataset_split if results[0].dataset_split else ""))


if len(sys.argv) < 2:
    sys.exit("usage: check-model-index.py MODEL_INDEX.yaml [MORE.yaml ...]")
for argument in sys.argv[1:]:
    check(argument)
