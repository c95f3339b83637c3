#!/usr/bin/env python3
"""Generates Fixtures/siglip/tokenizer-cases.json: ids of texts that hold special-token strings, and
Python's own lower-casing, from the tokenizers committed under Fixtures/siglip/.

Run from the repository root with transformers 5 and sentencepiece (the benchmark venv plus
`pip install sentencepiece protobuf`):

    python Fixtures/Generators/make_siglip_tokenizer_cases.py

What it records:

  special_ids   per checkpoint (siglip: transformers' slow SiglipTokenizer; siglip2: transformers'
                GemmaTokenizer with the fixture's tokenizer_config.json), the input_ids of texts that
                contain the tokenizer's special-token strings (`</s>`, `<unk>`, `<eos>`, `<pad>`,
                `<bos>`) where a user could type them: alone, inside words, between whitespace
                runs, in another case, at the end (where SiglipTokenizer adds no second `</s>`), and
                past the cut of `max_length`. Texts with `<mask>` are left out: transformers' Gemma
                tokenizer adds `<mask>` as id 520, beyond this fixture's 520-piece vocabulary (in
                Gemma's real tokenizer it is a piece of the model).
  lower         `str.lower()` of texts where the Greek capital sigma's final form depends on its
                context (Unicode's Final_Sigma rule, which CPython applies and SigLIP's
                `canonicalize_text` inherits), with case-ignorable characters around it.
"""
import json
import os
import sys

import sentencepiece  # noqa: F401  (SiglipTokenizer needs it)
import transformers
from transformers import SiglipTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Fixtures", "siglip")
TEXT_LENGTH = 16

SIGLIP_TEXTS = [
    "a photo of </s> dog",
    "</s>",
    "x</s>",
    "a<unk>b",
    "<unk>",
    "<unk> leading unknown",
    "a  </s>  b",
    "a </S> b",
    "</s></s>",
    "<pad>x",
    "a photo of a " + "very " * 11 + "</s> long",
    "a photo of a " + "very " * 13 + "</s> long",
    "ΟΔΟΣ </s> ΑΣ",
]

GEMMA_TEXTS = [
    "a photo of <eos> dog",
    "<bos>x",
    "x<pad> y",
    "<unk>",
    "a <EOS> b",
    "a  <eos>  b",
    "<eos>",
    "<eos><bos><pad>",
    "a photo of a " + "very " * 11 + "<eos> long",
]

LOWER_TEXTS = [
    "ΟΔΟΣ",
    "ΟΔΟΣ ΑΣ",
    "Σ",
    "ΑΣ.",
    "ΑΣ'Σ",
    "ΑΣ'",
    "Σ'Α",
    "ΑΣΑ",
    "ΑΣ\u0301",
    "ΑΣ\u0301Β",
    "Α\u0301Σ",
    "1Σ",
    "ΑΣ1",
    "ὈΔΌΣ ΣΟΦΌΣ.",
    "A PHOTO OF ΟΔΥΣΣΕΥΣ",
    "İstanbul ẞ ǅ",
]


def main():
    siglip = SiglipTokenizer.from_pretrained(os.path.join(OUT, "siglip"))
    gemma = transformers.GemmaTokenizer.from_pretrained(os.path.join(OUT, "siglip2"))
    cases = {
        "versions": {"transformers": transformers.__version__, "python": sys.version.split()[0]},
        "text_length": TEXT_LENGTH,
        "special_ids": {
            "siglip": [{"text": t, "ids": siglip(t, padding="max_length", truncation=True, max_length=TEXT_LENGTH)["input_ids"]}
                       for t in SIGLIP_TEXTS],
            "siglip2": [{"text": t, "ids": gemma(t, padding="max_length", truncation=True, max_length=TEXT_LENGTH,
                                                  padding_side="right")["input_ids"]}
                        for t in GEMMA_TEXTS],
        },
        "lower": [{"text": t, "lower": t.lower()} for t in LOWER_TEXTS],
    }
    with open(os.path.join(OUT, "tokenizer-cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
