"""Makes a random-weight CLIP checkpoint with the real sizes of openai/clip-vit-base-patch16.

Timing does not depend on the weights, so this stands in for the 600 MB checkpoint that cannot be
downloaded here. The tokenizer files are copied from the fixture checkpoint (they are the real
CLIP vocabulary and merges).

usage: python make_checkpoint.py OUT_DIR
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import CLIPConfig, CLIPModel

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
fixture = Path(__file__).resolve().parent.parent / "Fixtures" / "clip-reference" / "tiny-clip"

text = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
            num_attention_heads=8, max_position_embeddings=77, hidden_act="quick_gelu",
            bos_token_id=0, eos_token_id=2, pad_token_id=1)
vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              image_size=224, patch_size=16, hidden_act="quick_gelu")
config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=512, logit_scale_init_value=2.6592)
torch.manual_seed(0)
model = CLIPModel(config).eval()
with torch.no_grad():
    model.logit_scale.fill_(4.6052)  # ln 100, the trained value
model.save_pretrained(out, safe_serialization=True)
for name in ["vocab.json", "merges.txt", "preprocessor_config.json"]:
    shutil.copy(fixture / name, out / name)
n = sum(p.numel() for p in model.parameters())
print(json.dumps({"checkpoint": str(out), "parameters": n}))
