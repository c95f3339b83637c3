"""The PyTorch reference for `clip-audit bench`: Hugging Face transformers' CLIPModel, fp32, CPU.

Prints the same JSON line as `clip-audit bench`: images/s on preprocessed batches of B through the
image encoder (get_image_features), texts/s on batches of 64 prompts of 11 tokens (start, 9 tokens,
end) through the text encoder (get_text_features), and the peak RSS of the process.

usage: python torch_bench.py CHECKPOINT_DIR [--batch B] [--threads T] [--seconds S]
"""
import argparse
import json
import resource
import time

import torch
from transformers import CLIPModel

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint")
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--seconds", type=float, default=20)
args = parser.parse_args()

torch.set_num_threads(args.threads)
model = CLIPModel.from_pretrained(args.checkpoint, dtype=torch.float32).eval()
size = model.config.vision_config.image_size
gen = torch.Generator().manual_seed(0)
pixels = torch.randn(args.batch, 3, size, size, generator=gen)
ids = torch.randint(1000, 40000, (64, 11), generator=gen)
ids[:, 0] = 49406
ids[:, -1] = 49407


def measure(fn, per_call, seconds):
    fn()  # warm-up
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 2:
            return calls * per_call / elapsed


with torch.inference_mode():
    images_per_s = measure(lambda: model.get_image_features(pixel_values=pixels), args.batch, args.seconds)
    texts_per_s = measure(lambda: model.get_text_features(input_ids=ids), 64, args.seconds / 2)

def peak_rss_kib():
    # VmHWM, as clip-audit bench: ru_maxrss starts at the forking parent's resident set.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


peak_rss_mb = peak_rss_kib() / 1024
print(json.dumps({"model": args.checkpoint, "batch": args.batch, "threads": args.threads,
                  "images_per_s": round(images_per_s, 3), "texts_per_s": round(texts_per_s, 2),
                  "peak_rss_mb": round(peak_rss_mb, 1), "engine": "transformers " + __import__("transformers").__version__ + " / torch " + torch.__version__}))
