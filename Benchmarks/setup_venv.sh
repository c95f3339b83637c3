#!/usr/bin/env bash
# Creates Benchmarks/.venv with CPU torch (from a local wheel when one is in /opt/wheels, else PyPI)
# and transformers, for the reference side of the benchmark and for making a random checkpoint.
# CLIP_AUDIT_VENV puts the venv elsewhere (scripts/parity-golden.sh keeps one in its cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${CLIP_AUDIT_VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
if ! "$py" -c "import torch" 2>/dev/null; then
  wheel=$(ls /opt/wheels/torch-*.whl 2>/dev/null | head -n 1 || true)
  if [ -n "$wheel" ]; then
    "$py" -m pip install -q --no-deps "$wheel"
    "$py" -m pip install -q filelock typing_extensions sympy networkx jinja2 fsspec
  else
    # The CPU-only build from PyTorch's index; where only PyPI is reachable, PyPI's (larger) build.
    "$py" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu \
      || "$py" -m pip install -q torch
  fi
fi
"$py" -c "import transformers, safetensors, psutil" 2>/dev/null || "$py" -m pip install -q "transformers==5.24.0" safetensors numpy psutil threadpoolctl pillow
# torch declares setuptools as a requirement and warns at import when the venv's copy is too old.
"$py" -c "import setuptools, sys; sys.exit(int(setuptools.__version__.split('.')[0]) < 77)" 2>/dev/null \
  || "$py" -m pip install -q "setuptools>=77"
echo "$py"
