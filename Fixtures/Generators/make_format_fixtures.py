#!/usr/bin/env python3
"""Builds small random-weight checkpoints in the formats other than transformers' safetensors,
with each format's own reference outputs, so the Swift side is checked against the packages
that define those formats (not against transformers).

Writes Fixtures/formats/:
  hf-bin/                 the Fixtures/shapes/p32-gelu-f16 checkpoint saved as pytorch_model.bin
                          (torch.save; q/k/v as slices of one storage, text_projection as a
                          transposed view), plus that fixture's config.json
  openclip-quickgelu-p16/ open_clip_config.json + open_clip_model.safetensors (F32), QuickGELU,
                          custom mean/std, a 1000-token vocabulary
  openclip-gelu-p32/      open_clip_config.json + open_clip_pytorch_model.bin (F16), exact GELU,
                          the full 49,408-token vocabulary (8 wide), real prompts
  openai-p16/             ViT-tiny.pt: OpenAI's build_model + torch.jit.trace + save, F16, as
                          ViT-B-16.pt is; a 600-token vocabulary
  */golden.safetensors    pixel_values (the format's own preprocessing of the images below),
                          image_embeds, input_ids (I64, 0-padded), text_embeds, logits_per_image
  golden.json             images, prompts, and the reference versions

Usage: Benchmarks/.venv/bin/python Fixtures/Generators/make_format_fixtures.py
(needs torch, open-clip-torch 3.3.0, openai-clip 1.0.1, torchvision, ftfy, regex, safetensors).
Never run by the tests.
"""
import json
import pathlib
import sys
import types

# PyPI's torchvision wheel is built for CUDA and its compiled ops do not load beside the CPU
# torch; open_clip only needs the pure-Python transforms.
for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
    sys.modules[name] = types.ModuleType(name)

import clip  # noqa: E402  (OpenAI's package)
import clip.model  # noqa: E402
import open_clip  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "Fixtures" / "formats"
IMAGES = ROOT / "Fixtures" / "clip-reference" / "images"
IMAGE_NAMES = ["gradient_rgb.jpg", "gradient_gray.jpg", "real_chelsea.png", "tiny_upscale.png",
               "extreme_aspect.png", "exact_224.png", "gradient_rgba.png", "gradient_palette.png"]
PROMPTS = ["a photo of a cat", "a photo of an astronaut riding a horse on mars", "hello world",
           "Don't   <b>stop</b> &amp; go!", "a photo of a 30-year-old woman",
           "x " * 90]


def make_ids(gen, rows, length, start, end_id, pad=0):
    """Rows of [start, tokens..., end, pad...] with the end at varied positions; some rows carry
    tokens after the end, which must not change the pooled output."""
    ids = torch.full((rows, length), pad, dtype=torch.int64)
    ends = [1, 2, length - 1] + torch.randint(2, length - 1, (rows - 3,), generator=gen).tolist()
    for r, end in enumerate(ends):
        ids[r, 0] = start
        ids[r, 1:end] = torch.randint(1, start, (end - 1,), generator=gen)
        ids[r, end] = end_id
        if r % 4 == 3 and end + 3 < length:
            ids[r, end + 1:end + 3] = torch.randint(1, start, (2,), generator=gen)
    return ids


def images():
    return [Image.open(IMAGES / name) for name in IMAGE_NAMES]


def golden(path, model, pixel_values, input_ids, encode_image, encode_text):
    with torch.no_grad():
        img = encode_image(pixel_values).float()
        txt = encode_text(input_ids).float()
        scale = model.logit_scale.exp().float()
        logits = scale * (img / img.norm(dim=-1, keepdim=True)) @ (txt / txt.norm(dim=-1, keepdim=True)).t()
    save_file({"pixel_values": pixel_values.contiguous(), "image_embeds": img.contiguous(),
               "input_ids": input_ids.contiguous(), "text_embeds": txt.contiguous(),
               "logits_per_image": logits.contiguous()}, str(path / "golden.safetensors"))


def hf_bin():
    """The p32-gelu-f16 shapes fixture as a torch.save state dict with views: the same values."""
    src = ROOT / "Fixtures" / "shapes" / "p32-gelu-f16"
    out = OUT / "hf-bin"
    out.mkdir(parents=True, exist_ok=True)
    sd = load_file(str(src / "model.safetensors"))
    views = dict(sd)
    for key in [k for k in sd if k.endswith("self_attn.q_proj.weight")]:
        stem = key[: -len("q_proj.weight")]
        qkv = torch.cat([sd[stem + "q_proj.weight"], sd[stem + "k_proj.weight"], sd[stem + "v_proj.weight"]])
        d = sd[key].shape[0]
        for i, part in enumerate("qkv"):
            views[stem + part + "_proj.weight"] = qkv[i * d:(i + 1) * d]
    views["text_projection.weight"] = sd["text_projection.weight"].t().contiguous().t()
    assert not views["text_projection.weight"].is_contiguous()
    torch.save(views, out / "pytorch_model.bin")
    (out / "config.json").write_bytes((src / "config.json").read_bytes())


def open_clip_fixture(name, seed, model_cfg, preprocess_cfg, weights, dtype, vocab_ids):
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    (out / "open_clip_config.json").write_text(json.dumps(
        {"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}, indent=2) + "\n")
    model, _, _ = open_clip.create_model_and_transforms(f"local-dir:{out}", load_weights=False)
    # Larger random weights than open_clip's init, so that every part of the network shows in
    # the outputs; logit scale as trained.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        model.logit_scale.fill_(4.0)
    sd = {k: v.to(dtype).contiguous() for k, v in model.state_dict().items()}
    if weights.endswith(".safetensors"):
        save_file(sd, str(out / weights))
    else:
        torch.save(sd, out / weights)
    # The reference: open_clip's own loading of the folder, its preprocess and tokenizer.
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{out}")
    model.eval()
    tokenizer = open_clip.get_tokenizer(f"local-dir:{out}")
    pixel_values = torch.stack([preprocess(im) for im in images()])
    if vocab_ids:
        input_ids = tokenizer(PROMPTS)
    else:
        vocab, ctx = model_cfg["text_cfg"]["vocab_size"], model_cfg["text_cfg"]["context_length"]
        input_ids = make_ids(torch.Generator().manual_seed(seed), 12, ctx, vocab - 2, vocab - 1)
    golden(out, model, pixel_values, input_ids,
           lambda x: model.encode_image(x, normalize=False), lambda t: model.encode_text(t, normalize=False))


def openai_fixture():
    out = OUT / "openai-p16"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(5)
    # Vision 96 wide (one head of 96: OpenAI's heads = width // 64), patch 16 on 48 px, 3
    # layers; text 64 wide, 2 layers, a 600-token vocabulary.
    model = clip.model.CLIP(embed_dim=20, image_resolution=48, vision_layers=3, vision_width=96,
                            vision_patch_size=16, context_length=24, vocab_size=600,
                            transformer_width=64, transformer_heads=1, transformer_layers=2)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        model.logit_scale.fill_(4.0)
    model = clip.model.build_model(model.state_dict())  # as clip.load rebuilds it; F16 weights
    model = model.float().eval()
    example = (torch.zeros(1, 3, 48, 48), torch.zeros(1, 24, dtype=torch.int64))
    traced = torch.jit.trace(model, example, check_trace=False).half()
    path = out / "ViT-tiny.pt"
    torch.jit.save(traced, str(path))
    # The reference: clip.load(..., jit=False) of the archive, its transform.
    model, preprocess = clip.load(str(path), device="cpu", jit=False)
    model.eval()
    pixel_values = torch.stack([preprocess(im) for im in images()])
    input_ids = make_ids(torch.Generator().manual_seed(5), 12, 24, 598, 599)
    golden(out, model, pixel_values, input_ids, model.encode_image, model.encode_text)


def main():
    """All fixtures, or only those named on the command line (hf-bin, openclip-quickgelu-p16,
    openclip-gelu-p32, openai-p16, golden.json): torch.save writes a random serialization id,
    so regenerating a fixture changes its bytes even when its values are the same."""
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])

    def wanted(name):
        return not only or name in only

    if wanted("hf-bin"):
        hf_bin()
    if wanted("openclip-quickgelu-p16"):
        open_clip_fixture(
            "openclip-quickgelu-p16", 3,
            dict(embed_dim=16, quick_gelu=True,
                 vision_cfg=dict(image_size=48, layers=2, width=40, head_width=20, mlp_ratio=2.6, patch_size=16),
                 text_cfg=dict(context_length=20, vocab_size=1000, width=24, heads=3, layers=2)),
            dict(mean=[0.5, 0.45, 0.4], std=[0.25, 0.3, 0.2], interpolation="bicubic", resize_mode="squash"),
            "open_clip_model.safetensors", torch.float32, vocab_ids=False)
    if wanted("openclip-gelu-p32"):
        open_clip_fixture(
            "openclip-gelu-p32", 4,
            dict(embed_dim=12,
                 vision_cfg=dict(image_size=64, layers=3, width=36, head_width=12, patch_size=32),
                 text_cfg=dict(context_length=77, vocab_size=49408, width=8, heads=2, layers=2, mlp_ratio=3.0)),
            dict(mean=[0.48145466, 0.4578275, 0.40821073], std=[0.26862954, 0.26130258, 0.27577711]),
            "open_clip_pytorch_model.bin", torch.float16, vocab_ids=True)
    if wanted("openai-p16"):
        openai_fixture()
    if not wanted("golden.json"):
        return
    tokens_openai = clip.tokenize(PROMPTS, truncate=True)
    (OUT / "golden.json").write_text(json.dumps({
        "images": IMAGE_NAMES, "prompts": PROMPTS,
        "openai_clip_tokenize": tokens_openai.tolist(),
        "versions": {"torch": torch.__version__, "open_clip": open_clip.__version__,
                     "openai-clip": "1.0.1", "pillow": Image.__version__},
    }, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
