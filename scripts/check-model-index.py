#!/usr/bin/env python3
"""Checks that a `clip-audit card` model-index.yaml pastes into a Hugging Face model card.

    scripts/check-model-index.py CARD_DIR/model-index.yaml

Wraps the block in a model card's YAML front matter and reads it with huggingface_hub's own
parser (`ModelCard` → `ModelCardData` → `EvalResult`s), as the Hub does; then checks what the
Hub shows: the model name is a repo id (not a path), one result per design, each metric named by
its group, the group in `args` and never in the dataset's `split`. Exit 0 and one summary line,
or exit 1 with the first problem. Needs `pip install huggingface_hub` (PyPI).
"""
import sys

try:
    from huggingface_hub import ModelCard
except ImportError:
    sys.exit("check-model-index: huggingface_hub is not installed (pip install huggingface_hub)")

path = sys.argv[1]
text = open(path, encoding="utf-8").read()
card = ModelCard("---\n" + text + "---\n\n# Model\n")
data = card.data
results = data.eval_results or []
if not results:
    sys.exit("check-model-index: %s: no eval results parsed" % path)
name = data.model_name
if not name or name.startswith(("/", ".", "~")) or name.count("/") > 1:
    sys.exit("check-model-index: %s: model name %r is not a Hub repo id" % (path, name))
tasks = {r.task_name for r in results}
for r in results:
    if not r.metric_name or "(" not in r.metric_name:
        sys.exit("check-model-index: %s: metric %r is not named by its group" % (path, r.metric_name))
    if not isinstance(r.metric_args, dict) or "group" not in r.metric_args or "n" not in r.metric_args:
        sys.exit("check-model-index: %s: metric %r has no group and n in args" % (path, r.metric_name))
    if r.dataset_split and any(c in r.dataset_split for c in ":|_") and r.dataset_split != "validation":
        sys.exit("check-model-index: %s: split %r looks like a group" % (path, r.dataset_split))
    if r.dataset_type.endswith(".csv") or r.dataset_type.startswith("/"):
        sys.exit("check-model-index: %s: dataset type %r is a file, not a dataset id" % (path, r.dataset_type))
print("model-index ok: %s, %d designs, %d metrics, dataset %s%s" % (
    name, len(tasks), len(results), results[0].dataset_type,
    " (%s)" % results[0].dataset_split if results[0].dataset_split else ""))
