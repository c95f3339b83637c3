#!/usr/bin/env python3
"""Generates Fixtures/siglip/: tiny random SigLIP and SigLIP 2 checkpoints and transformers' outputs for them.

Run from the repository root with the benchmark venv plus SentencePiece:

    Benchmarks/setup_venv.sh && Benchmarks/.venv/bin/pip install sentencepiece protobuf
    Benchmarks/.venv/bin/python Fixtures/Generators/make_siglip_fixtures.py

What it writes (small: the tests read every file):

  Fixtures/siglip/siglip/       model_type siglip, SigLIP's tokenizer: a SentencePiece *unigram* model
                                (spiece.model, nmt_nfkc normalisation with its precompiled character
                                map, dummy prefix, extra whitespace removed) loaded by SiglipTokenizer;
                                bicubic preprocessing.
  Fixtures/siglip/siglip2/      model_type siglip with SigLIP 2's (Gemma's) kind of tokenizer: a
                                SentencePiece *BPE* model with byte fallback (tokenizer.model, identity
                                normalisation, no dummy prefix, digits split), end token appended;
                                bilinear preprocessing, as the fixed-resolution SigLIP 2 checkpoints use.
  Fixtures/siglip/<name>.safetensors  pixel_values, input_ids (I64), image_embeds, text_embeds,
                                logits_per_image from transformers' SiglipModel + processor.
  Fixtures/siglip/<name>.json   the image and text order, reference versions, and for SigLIP 2 the
                                ids of transformers' own GemmaTokenizer beside the library's.

The SentencePiece models are trained here, with the `sentencepiece` package, on the licence texts
under /usr/share/common-licenses plus a few lines of accented, Greek and CJK text (so that the
character maps and unknown handling have something to do); the weights are random at odd sizes
(nothing divides evenly, so an implementation that assumes ViT-B/16's shapes fails).

Reference for the ids: SigLIP: transformers' SiglipTokenizer (the slow, SentencePiece one) through
SiglipProcessor with padding="max_length". SigLIP 2: transformers 5 has no slow Gemma tokenizer
(its GemmaTokenizer converts tokenizer.model to a `tokenizers` BPE), so the ids are the
SentencePiece library's own encoding of tokenizer.model (what the slow GemmaTokenizer returned),
plus <eos>, truncated keeping it, padded with <pad> — and the generator records whether
transformers' GemmaTokenizer agrees.
"""
import glob
import json
import os
import sys

import numpy as np
import sentencepiece as spm
import torch
import transformers
from PIL import Image
from safetensors.torch import save_file
from transformers import SiglipConfig, SiglipModel, SiglipTokenizer
from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Fixtures", "siglip")
IMAGES = os.path.join(ROOT, "Fixtures", "clip-reference", "images")
IMAGE_NAMES = ["real_astronaut.png", "gradient_rgba.png", "gradient_palette.png", "gradient_gray.jpg",
               "tiny_upscale.png", "extreme_aspect.png", "gradient_progressive.jpg"]
TEXT_LENGTH = 16

TEXTS = [
    "a photo of a dog.",
    "A Photo Of A DOG",
    "a photo of a woman, aged 20-29!",
    "Hello,   world!!  (again)\tand\nagain",
    "  leading and trailing spaces  ",
    "",
    "   ",
    "café naïve résumé Ångström",
    "ﬁne ligatures ｆｕｌｌｗｉｄｔｈ ① ™",
    "Ελληνικά κείμενα",
    "日本語のテキスト 中文",
    "emoji 😀👍🏽 and 🇫🇷 flags",
    "numbers 1234567 and 3.14159",
    "under_score and ▁ lower block",
    "\"quotes\" 'single' `back` ~tilde~ {braces} [brackets] <angle>",
    "it's a state-of-the-art model; isn't it?",
    "a very long prompt " + "that keeps going and going " * 6 + "until it must be cut",
    "MiXeD CaSe WoRdS WITH CAPITALS",
    "tab\tseparated\tvalues",
    "zero\u200bwidth and non\u00a0breaking",
]

EXTRA_TRAINING_TEXT = """Café, naïve, résumé, Ångström, façade, jalapeño, Straße, Zürich.
Ελληνικά κείμενα για την εκπαίδευση. Русский текст тоже.
日本語のテキストと中文的文本。한국어 텍스트.
"""


def training_text(path):
    lines = []
    for name in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(name):
            with open(name, encoding="utf-8", errors="replace") as f:
                lines += [l.strip() for l in f if l.strip()]
    lines += EXTRA_TRAINING_TEXT.strip().splitlines()
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def train_unigram(corpus, prefix):
    # SigLIP's spiece.model: T5-style ids (pad 0, eos 1, unk 2), nmt_nfkc, dummy prefix.
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="unigram", vocab_size=300,
        character_coverage=0.995, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        normalization_rule_name="nmt_nfkc", num_threads=1, minloglevel=2)


def train_bpe(corpus, prefix):
    # Gemma's tokenizer.model: BPE with byte fallback, ids pad 0, eos 1, bos 2, unk 3, identity
    # normalisation, no dummy prefix, whitespace kept as is, digits split.
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=520,
        character_coverage=0.995, byte_fallback=True, split_digits=True,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3,
        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
        normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True, num_threads=1, minloglevel=2)


def config(vocab_size, pad_id, eos_id, bos_id):
    return SiglipConfig(
        text_config=dict(vocab_size=vocab_size, hidden_size=36, intermediate_size=52, num_hidden_layers=2,
                         num_attention_heads=3, max_position_embeddings=TEXT_LENGTH, projection_size=40,
                         pad_token_id=pad_id, eos_token_id=eos_id, bos_token_id=bos_id,
                         hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
        vision_config=dict(hidden_size=40, intermediate_size=68, num_hidden_layers=2, num_attention_heads=5,
                           image_size=30, patch_size=6, num_channels=3, hidden_act="gelu_pytorch_tanh",
                           layer_norm_eps=1e-6),
    )


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                p.fill_(np.log(10.0))
            elif name == "logit_bias":
                p.fill_(-2.5)
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))


def images():
    out = []
    for name in IMAGE_NAMES:
        with Image.open(os.path.join(IMAGES, name)) as im:
            im.load()
            out.append(im.copy())
    return out


def reference(model, pixel_values, input_ids):
    model.eval()
    with torch.no_grad():
        out = model(input_ids=input_ids, pixel_values=pixel_values)
        image_embeds = model.get_image_features(pixel_values=pixel_values)
        text_embeds = model.get_text_features(input_ids=input_ids)
    image_embeds = getattr(image_embeds, "pooler_output", image_embeds)
    text_embeds = getattr(text_embeds, "pooler_output", text_embeds)
    return {
        "pixel_values": pixel_values.float().contiguous(),
        "input_ids": input_ids.long().contiguous(),
        "image_embeds": image_embeds.float().contiguous(),
        "text_embeds": text_embeds.float().contiguous(),
        "logits_per_image": out.logits_per_image.float().contiguous(),
    }


def processor_config(resample):
    return {
        "do_normalize": True, "do_rescale": True, "do_resize": True, "do_convert_rgb": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
        "image_processor_type": "SiglipImageProcessor", "processor_class": "SiglipProcessor",
        "resample": resample, "rescale_factor": 1 / 255, "size": {"height": 30, "width": 30},
    }


def pixel_values(directory):
    processor = SiglipImageProcessorPil.from_pretrained(directory)
    return processor(images=images(), return_tensors="pt")["pixel_values"]


def write(name, model, tensors, meta):
    save_file(tensors, os.path.join(OUT, f"{name}.safetensors"))
    with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
        f.write("\n")


def versions():
    return {"transformers": transformers.__version__, "torch": torch.__version__,
            "sentencepiece": spm.__version__, "pillow": Image.__version__}


def make_siglip(corpus, work):
    directory = os.path.join(OUT, "siglip")
    os.makedirs(directory, exist_ok=True)
    train_unigram(corpus, os.path.join(work, "uni"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(work, "uni.model"))
    tokenizer = SiglipTokenizer(vocab_file=os.path.join(work, "uni.model"), model_max_length=TEXT_LENGTH)
    tokenizer.save_pretrained(directory)
    cfg = config(sp.get_piece_size(), pad_id=tokenizer.pad_token_id, eos_id=tokenizer.eos_token_id, bos_id=None)
    model = SiglipModel(cfg)
    randomise(model, 25)
    model.save_pretrained(directory)
    with open(os.path.join(directory, "preprocessor_config.json"), "w") as f:
        json.dump(processor_config(3), f, indent=2)
    tokenizer = SiglipTokenizer.from_pretrained(directory)
    ids = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=TEXT_LENGTH, return_tensors="pt")["input_ids"]
    tensors = reference(model, pixel_values(directory), ids)
    write("siglip", model, tensors, {"images": IMAGE_NAMES, "texts": TEXTS, "versions": versions(),
                                     "tokenizer": "SiglipTokenizer (slow, SentencePiece unigram)"})


def make_siglip2(corpus, work):
    directory = os.path.join(OUT, "siglip2")
    os.makedirs(directory, exist_ok=True)
    train_bpe(corpus, os.path.join(work, "bpe"))
    model_file = os.path.join(work, "bpe.model")
    sp = spm.SentencePieceProcessor(model_file=model_file)
    with open(model_file, "rb") as f, open(os.path.join(directory, "tokenizer.model"), "wb") as g:
        g.write(f.read())
    # As google/siglip2-*'s tokenizer_config.json: Gemma's tokenizer, no <bos>, <eos> appended.
    tokenizer_config = {"tokenizer_class": "GemmaTokenizer", "add_bos_token": False, "add_eos_token": True,
                        "model_max_length": TEXT_LENGTH, "padding_side": "right", "pad_token": "<pad>",
                        "eos_token": "<eos>", "bos_token": "<bos>", "unk_token": "<unk>"}
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=2)
    pad, eos = sp.pad_id(), sp.eos_id()
    rows = []
    for text in TEXTS:
        row = sp.encode(text)[: TEXT_LENGTH - 1] + [eos]
        rows.append(row + [pad] * (TEXT_LENGTH - len(row)))
    ids = torch.tensor(rows, dtype=torch.long)
    # transformers 5's own GemmaTokenizer (tokenizer.model converted to a `tokenizers` BPE), for the record.
    try:
        gemma = transformers.GemmaTokenizer.from_pretrained(directory)
        theirs = gemma(TEXTS, padding="max_length", truncation=True, max_length=TEXT_LENGTH, padding_side="right")["input_ids"]
        agree = [list(a) == b for a, b in zip(theirs, rows)]
    except Exception as error:  # recorded, not fatal: the SentencePiece library is the reference
        theirs, agree = None, f"GemmaTokenizer failed: {error}"
    cfg = config(sp.get_piece_size(), pad_id=pad, eos_id=eos, bos_id=sp.bos_id())
    model = SiglipModel(cfg)
    randomise(model, 2025)
    model.save_pretrained(directory)
    with open(os.path.join(directory, "preprocessor_config.json"), "w") as f:
        json.dump(processor_config(2), f, indent=2)
    tensors = reference(model, pixel_values(directory), ids)
    write("siglip2", model, tensors, {
        "images": IMAGE_NAMES, "texts": TEXTS, "versions": versions(),
        "tokenizer": "sentencepiece library on tokenizer.model (BPE, byte fallback) + <eos>",
        "transformers_gemma_agrees": agree, "transformers_gemma_ids": theirs})


def main():
    import tempfile
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        corpus = os.path.join(work, "corpus.txt")
        training_text(corpus)
        make_siglip(corpus, work)
        make_siglip2(corpus, work)
    for path in sorted(glob.glob(os.path.join(OUT, "**", "*"), recursive=True)):
        if os.path.isfile(path):
            print(os.path.relpath(path, ROOT), os.path.getsize(path))


if __name__ == "__main__":
    sys.exit(main())
