#!/usr/bin/env python3
"""Builds small random-weight CLIP checkpoints of shapes other than tiny-clip's, and transformers'
outputs for them, so the Swift network is checked on sizes it reads from config.json rather than
assumes (patch size, widths, head and layer counts, activation, eos rule, weight dtype).

Writes Fixtures/shapes/<name>/{config.json, model.safetensors, golden.safetensors}. The tokenizer
files are not needed by the network and are not copied (tiny-clip's serve if ever needed).

Usage: python Fixtures/Generators/make_shape_fixtures.py   (needs torch, transformers, safetensors, numpy)
"""
import json
import pathlib

import torch
from safetensors.torch import save_file
from transformers import CLIPConfig, CLIPModel

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "Fixtures" / "shapes"

CHECKPOINTS = {
    # ViT with patch 32 on a 64-px image (2×2 grid), 5 heads of 8, an odd MLP width; exact GELU
    # in the vision tower; legacy eos 2 (argmax pooling) with a 4096-token vocabulary (so the
    # end id is 4095, the row maximum, and the file stays small); saved in F16.
    "p32-gelu-f16": dict(
        seed=1, dtype=torch.float16, start=4094, end=4095, pad=0,
        text=dict(vocab_size=4096, hidden_size=24, intermediate_size=40, num_hidden_layers=1,
                  num_attention_heads=3, max_position_embeddings=77, hidden_act="quick_gelu",
                  bos_token_id=0, eos_token_id=2, pad_token_id=1),
        vision=dict(hidden_size=40, intermediate_size=72, num_hidden_layers=3, num_attention_heads=5,
                    image_size=64, patch_size=32, hidden_act="gelu"),
        projection_dim=16, logit_scale_init_value=2.0),
    # Patch 8 on a 48-px image (6×6 grid), 2 heads; exact GELU in the text tower; modern eos
    # 49407 (first-occurrence pooling; padded with 49407 too), the full 49408 vocabulary (so the
    # text is narrow: 14 wide, 2 heads of 7), layer_norm_eps 1e-6, a 40-token context; saved in BF16.
    "p8-eos49407-bf16": dict(
        seed=2, dtype=torch.bfloat16, start=49406, end=49407, pad=49407,
        text=dict(vocab_size=49408, hidden_size=14, intermediate_size=30, num_hidden_layers=3, num_attention_heads=2,
                  max_position_embeddings=40, hidden_act="gelu", layer_norm_eps=1e-6,
                  bos_token_id=49406, eos_token_id=49407, pad_token_id=49407),
        vision=dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                    image_size=48, patch_size=8, hidden_act="quick_gelu", layer_norm_eps=1e-6),
        projection_dim=20, logit_scale_init_value=3.0),
}


def make_ids(gen, rows, length, start, end_id, pad):
    """Rows of [start, tokens..., end, pad...] with the end at varied positions (right after the
    start, in the middle, at the last position); every fourth row also carries ordinary tokens
    after the end, which must not change the pooled output."""
    ids = torch.full((rows, length), pad, dtype=torch.int64)
    ends = [1, 2, length - 1] + torch.randint(2, length - 1, (rows - 3,), generator=gen).tolist()
    for r, end in enumerate(ends):
        ids[r, 0] = start
        ids[r, 1:end] = torch.randint(1, start, (end - 1,), generator=gen)
        ids[r, end] = end_id
        if r % 4 == 3 and end + 3 < length:
            ids[r, end + 1:end + 3] = torch.randint(1, start, (2,), generator=gen)
    return ids


def tensor(output):
    """transformers 5 returns model outputs from get_*_features; 4.x returned the tensor."""
    return (output.pooler_output if hasattr(output, "pooler_output") else output).contiguous()


def build(name, spec):
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"])
    config = CLIPConfig(text_config=spec["text"], vision_config=spec["vision"],
                        projection_dim=spec["projection_dim"],
                        logit_scale_init_value=spec["logit_scale_init_value"])
    model = CLIPModel(config).eval()
    # Random weights larger than the init's (std 0.02 would make every layer nearly the identity).
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname == "logit_scale":
                continue
            if pname.endswith("layer_norm1.weight") or pname.endswith("layer_norm2.weight") or "layernorm.weight" in pname \
                    or "layrnorm.weight" in pname or "final_layer_norm.weight" in pname:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=gen))
        # Round through the saved dtype so the float32 reference runs on exactly the saved values.
        for p in model.parameters():
            p.copy_(p.to(spec["dtype"]).float())

    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(spec["dtype"]).contiguous() for k, v in model.state_dict().items()
             if not k.endswith("position_ids")}
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    config_dict = config.to_dict()
    (out / "config.json").write_text(json.dumps(config_dict, indent=2, sort_keys=True) + "\n")

    v, t = spec["vision"], spec["text"]
    images = 5
    pixel_values = torch.randn((images, 3, v["image_size"], v["image_size"]), generator=gen)
    ids = make_ids(gen, 12, t["max_position_embeddings"], spec["start"], spec["end"], spec["pad"])
    with torch.no_grad():
        result = model(input_ids=ids, pixel_values=pixel_values)
        golden = {
            "pixel_values": pixel_values.contiguous(),
            "input_ids": ids.contiguous(),
            "image_embeds": tensor(model.get_image_features(pixel_values=pixel_values)),
            "text_embeds": tensor(model.get_text_features(input_ids=ids)),
            "logits_per_image": result.logits_per_image.contiguous(),
        }
    save_file(golden, out / "golden.safetensors", metadata={"transformers": __import__("transformers").__version__,
                                                           "torch": torch.__version__})
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    print(name, sizes)


if __name__ == "__main__":
    for name, spec in CHECKPOINTS.items():
        build(name, spec)
