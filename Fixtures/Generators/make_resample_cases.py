#!/usr/bin/env python3
"""Generates the imaging test fixtures from real Pillow (and numpy / pypng where noted).

Usage (a throwaway venv is enough):
    python3 -m venv /tmp/pilvenv && /tmp/pilvenv/bin/pip install pillow numpy pypng
    /tmp/pilvenv/bin/python Fixtures/Generators/make_resample_cases.py

Writes (deterministic: fixed seed):
  Fixtures/resample-cases.json    small random RGB images and Pillow's BICUBIC resizes of them
                                  (down by non-integer factors, up, one dimension only, 1 px wide)
  Fixtures/codec-cases/*.png|jpg  small PNG/JPEG variants, and expected.json with, per file,
                                  Pillow's convert("RGB") bytes and (for files with transparency)
                                  transformers 5's composite-over-white bytes, hex encoded
  Fixtures/codec-cases/cmyk.jpg   a CMYK JPEG, which the decoder must refuse with an error
  Fixtures/gray16-expected.json   gradient_gray16.png's 16-bit samples (read with pypng, not
                                  Pillow) reduced to 8 bits by v >> 8, the decoder's documented
                                  scaling (Pillow's own convert("RGB") clips I;16 at 255)
"""
import base64
import io
import json
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Fixtures")
rng = np.random.default_rng(20240229)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode()


def resample_cases():
    # (input w, h) -> list of output (w, h)
    plan = [
        ((37, 23), [(16, 10), (11, 7), (74, 46), (37, 9), (5, 23), (1, 23), (37, 1), (100, 3)]),
        ((64, 48), [(30, 22), (64, 48), (64, 13), (29, 48), (97, 71), (1, 1)]),
        ((1, 17), [(1, 5), (4, 17), (3, 40)]),
        ((9, 1), [(4, 1), (20, 1), (9, 3)]),
        ((200, 30), [(150, 22), (41, 6)]),
        ((30, 70), [(22, 51), (45, 20), (29, 9)]),  # portrait: Pillow 13 runs the vertical pass first
    ]
    cases = []
    for (w, h), outs in plan:
        a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        # Half the images smooth-ish so that values are not all clipped noise.
        if w >= 30:
            yy, xx = np.mgrid[0:h, 0:w]
            a[..., 0] = ((xx * 255) // max(w - 1, 1)).astype(np.uint8)
        im = Image.fromarray(a, "RGB")
        for ow, oh in outs:
            r = im.resize((ow, oh), resample=Image.BICUBIC, reducing_gap=None)
            cases.append({"width": w, "height": h, "input": b64(a),
                          "outWidth": ow, "outHeight": oh, "output": b64(np.array(r))})
    with open(os.path.join(FIX, "resample-cases.json"), "w") as f:
        json.dump({"generator": "Fixtures/Generators/make_resample_cases.py", "pillow": Image.__version__,
                   "filter": "BICUBIC", "cases": cases}, f, indent=0)


def gradient(w, h):
    yy, xx = np.mgrid[0:h, 0:w]
    r = (xx * 255 // max(w - 1, 1))
    g = (yy * 255 // max(h - 1, 1))
    b = ((xx + yy) * 7) % 256
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def composite_on_white(im):
    # transformers 5 convert_to_rgb for images with transparency.
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, im).convert("RGB")


def codec_cases():
    out_dir = os.path.join(FIX, "codec-cases")
    os.makedirs(out_dir, exist_ok=True)
    w, h = 13, 9
    base = gradient(w, h)
    rgb = Image.fromarray(base, "RGB")
    files = {}

    # Palette with tRNS (per-entry alpha).
    pal = rgb.quantize(colors=16)
    trns = bytes([(i * 17) % 256 for i in range(16)])
    pal.save(os.path.join(out_dir, "palette_trns.png"), transparency=trns)
    files["palette_trns.png"] = None
    # Palette without transparency, 4-bit.
    pal.save(os.path.join(out_dir, "palette_4bit.png"), bits=4)
    files["palette_4bit.png"] = None
    # Grey + alpha.
    la = Image.merge("LA", (rgb.convert("L"), Image.fromarray(base[..., 1])))
    la.save(os.path.join(out_dir, "grey_alpha.png"))
    files["grey_alpha.png"] = None
    # 1-bit.
    rgb.convert("L").point(lambda v: 255 if v > 100 else 0).convert("1").save(os.path.join(out_dir, "bilevel.png"))
    files["bilevel.png"] = None
    # Grey 8-bit with a tRNS colour.
    grey = rgb.convert("L")
    grey.save(os.path.join(out_dir, "grey_trns.png"), transparency=int(np.array(grey)[0, 0]))
    files["grey_trns.png"] = None
    # Interlaced (Adam7) RGB and RGBA: Pillow cannot write interlaced PNGs; pypng can.
    import png as pypng
    rows = base.reshape(h, w * 3).tolist()
    with open(os.path.join(out_dir, "interlaced_rgb.png"), "wb") as f:
        pypng.Writer(w, h, greyscale=False, interlace=True).write(f, rows)
    files["interlaced_rgb.png"] = None
    alpha = ((np.arange(w * h).reshape(h, w) * 37) % 256).astype(np.uint8)
    rgba_rows = np.concatenate([base, alpha[..., None]], axis=-1).reshape(h, w * 4).tolist()
    with open(os.path.join(out_dir, "interlaced_rgba.png"), "wb") as f:
        pypng.Writer(w, h, greyscale=False, alpha=True, interlace=True).write(f, rgba_rows)
    files["interlaced_rgba.png"] = None
    # 16-bit RGB (Pillow keeps the high byte).
    rgb16 = (base.astype(np.uint16) * 257 + rng.integers(0, 256, size=base.shape)).astype(np.uint16)
    with open(os.path.join(out_dir, "rgb16.png"), "wb") as f:
        pypng.Writer(w, h, greyscale=False, bitdepth=16).write(f, rgb16.reshape(h, w * 3).tolist())
    files["rgb16.png"] = None
    # 2-bit grey.
    g2 = (np.array(grey) >> 6).astype(np.uint8)
    with open(os.path.join(out_dir, "grey_2bit.png"), "wb") as f:
        pypng.Writer(w, h, greyscale=True, bitdepth=2).write(f, g2.tolist())
    files["grey_2bit.png"] = None
    # JPEG variants (larger, with colour detail, so chroma upsampling matters).
    big = Image.fromarray(gradient(40, 28), "RGB")
    big.save(os.path.join(out_dir, "baseline.jpg"), quality=85)
    files["baseline.jpg"] = None
    big.save(os.path.join(out_dir, "progressive.jpg"), quality=80, progressive=True)
    files["progressive.jpg"] = None
    big.save(os.path.join(out_dir, "subsampling_444.jpg"), quality=90, subsampling=0)
    files["subsampling_444.jpg"] = None
    big.convert("L").save(os.path.join(out_dir, "grey.jpg"), quality=90)
    files["grey.jpg"] = None
    # CMYK: must be refused.
    big.convert("CMYK").save(os.path.join(out_dir, "cmyk.jpg"), quality=90)

    expected = {}
    for name in sorted(files):
        im = Image.open(os.path.join(out_dir, name))
        has_alpha = "A" in im.getbands() or im.info.get("transparency") is not None
        entry = {"mode": im.mode, "width": im.width, "height": im.height,
                 "rgb": b64(np.array(im.convert("RGB"))), "hasAlpha": has_alpha}
        if has_alpha:
            entry["composited"] = b64(np.array(composite_on_white(Image.open(os.path.join(out_dir, name)))))
        expected[name] = entry
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump({"generator": "Fixtures/Generators/make_resample_cases.py", "pillow": Image.__version__,
                   "note": "rgb: Pillow convert('RGB'); composited: transformers 5 convert_to_rgb (alpha over white)",
                   "files": expected}, f, indent=1, sort_keys=True)


def gray16_expected():
    import png as pypng
    path = os.path.join(FIX, "clip-reference", "images", "gradient_gray16.png")
    w, h, rows, info = pypng.Reader(filename=path).read()
    assert info["bitdepth"] == 16 and info["greyscale"] and not info["alpha"], info
    a = np.array([np.array(r, dtype=np.uint16) for r in rows])
    assert a.shape == (h, w)
    high = (a >> 8).astype(np.uint8)
    with open(os.path.join(FIX, "gray16-expected.json"), "w") as f:
        json.dump({"generator": "Fixtures/Generators/make_resample_cases.py",
                   "source": "pypng 16-bit samples of gradient_gray16.png, v >> 8",
                   "width": w, "height": h, "min16": int(a.min()), "max16": int(a.max()),
                   "grey8": b64(high)}, f, indent=0)


if __name__ == "__main__":
    resample_cases()
    codec_cases()
    gray16_expected()
    print("ok", file=sys.stderr)
