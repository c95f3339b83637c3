"""Makes a random-weight SigLIP checkpoint with the real sizes of google/siglip-base-patch16-224.

Timing does not depend on the weights, so this stands in for the 800 MB checkpoint that cannot be
downloaded here. The tokenizer files (a small SentencePiece unigram model and its
tokenizer_config.json) are copied from the SigLIP fixture: the text tower's cost depends on its
64 positions, not on the vocabulary.

usage: python make_siglip_checkpoint.py OUT_DIR
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import SiglipConfig, SiglipModel

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
fixture = Path(__file__).resolve().parent.parent / "Fixtures" / "siglip" / "siglip"

text = dict(vocab_size=32000, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
            max_position_embeddings=64, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
            pad_token_id=1, eos_token_id=1)
vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=224,
              patch_size=16, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
config = SiglipConfig(text_config=text, vision_config=vision)
torch.manual_seed(0)
model = SiglipModel(config).eval()
model.save_pretrained(out, safe_serialization=True)
for name in ["spiece.model", "tokenizer_config.json"]:
    shutil.copy(fixture / name, out / name)
with open(out / "preprocessor_config.json", "w") as f:
    json.dump({"do_resize": True, "size": {"height": 224, "width": 224}, "resample": 3, "do_rescale": True,
               "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5],
               "image_std": [0.5, 0.5, 0.5], "image_processor_type": "SiglipImageProcessor"}, f, indent=2)
n = sum(p.numel() for p in model.parameters())
print(json.dumps({"checkpoint": str(out), "parameters": n}))
