#!/usr/bin/env python3
"""Makes the full-size network parity golden: a random-weight checkpoint with the sizes of
openai/clip-vit-base-patch16 (Benchmarks/make_checkpoint.py: 12 layers × 768 for images, 12 × 512
for texts, QuickGELU) and transformers' outputs for a few real images and prompts, in
OUT_DIR/golden.safetensors with the tensors of Fixtures/clip-reference/golden.safetensors.

The tiny fixtures are too small to show how rounding grows over 12 layers of 768; this golden is
what `NetworkParityTests.fullSizeCheckpointMatchesTransformers` checks when
CLIP_AUDIT_PARITY_CHECKPOINT names OUT_DIR. At 600 MB it is not committed: scripts/parity-golden.sh
makes it once into a cache keyed by this file's hash.

Inputs: four of the fixture images through the slow CLIPImageProcessor (Pillow), and eight
prompts through the slow CLIPTokenizer, one of them past 77 tokens (truncated, so the text
tower's full context is used), padded with 0 like the fixture's golden.

usage: python make_parity_golden.py OUT_DIR   (torch, transformers, safetensors, pillow)
"""
import json
import pathlib
import subprocess
import sys

import torch
import transformers
from PIL import Image
from safetensors.torch import save_file
from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
IMAGES = ROOT / "Fixtures" / "clip-reference" / "images"
IMAGE_NAMES = ["real_astronaut.png", "real_chelsea.png", "gradient_rgba.png", "extreme_aspect.png"]
TEXTS = [
    "a photo of a cat",
    "a photo of a man.",
    "a photo of a black woman",
    "a photo of a person more than 70 years old",
    "",
    "café naïve résumé",
    "Tom &amp; Jerry &lt;3",
    " ".join(["long"] * 90),
]
CONTEXT = 77


def tensor(output):
    """transformers 5 returns model outputs from get_*_features; 4.x returned the tensor."""
    return (output.pooler_output if hasattr(output, "pooler_output") else output).contiguous()


def main():
    out = pathlib.Path(sys.argv[1])
    subprocess.run([sys.executable, str(ROOT / "Benchmarks" / "make_checkpoint.py"), str(out)], check=True)
    torch.manual_seed(0)
    model = CLIPModel.from_pretrained(out, torch_dtype=torch.float32).eval()
    processor = CLIPImageProcessor.from_pretrained(out)
    tokenizer = CLIPTokenizer.from_pretrained(out)

    # The processor converts to RGB itself; the pixel values are only the network's input here.
    images = [Image.open(IMAGES / name) for name in IMAGE_NAMES]
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"].float()

    ids = torch.zeros((len(TEXTS), CONTEXT), dtype=torch.int64)
    for row, text in enumerate(TEXTS):
        tokens = tokenizer(text, truncation=True, max_length=CONTEXT)["input_ids"]
        ids[row, :len(tokens)] = torch.tensor(tokens)

    with torch.no_grad():
        result = model(input_ids=ids, pixel_values=pixel_values)
        golden = {
            "pixel_values": pixel_values.contiguous(),
            "input_ids": ids.contiguous(),
            "image_embeds": tensor(model.get_image_features(pixel_values=pixel_values)),
            "text_embeds": tensor(model.get_text_features(input_ids=ids)),
            "logits_per_image": result.logits_per_image.contiguous(),
        }
    save_file(golden, out / "golden.safetensors",
              metadata={"transformers": transformers.__version__, "torch": torch.__version__,
                        "images": json.dumps(IMAGE_NAMES), "texts": json.dumps(TEXTS)})
    print(json.dumps({"golden": str(out / "golden.safetensors"),
                      "shapes": {k: list(v.shape) for k, v in golden.items()}}))


if __name__ == "__main__":
    main()
