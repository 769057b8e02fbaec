#!/usr/bin/env bash
# Float / INT8 / INT4 latency with ONNX Runtime's CUDA provider, on a machine with an NVIDIA GPU, CUDA 12 and cuDNN 9.
# Builds the CLI against Microsoft.ML.OnnxRuntime.Gpu 1.31.0, builds the decoder-shaped feed-forward stack of the
# weight-only benchmark (LAYERS blocks, hidden 2048), quantizes it (dynamic INT8, weight-only INT8 and INT4, float16)
# and runs `compare --device cuda` for each. Usage: benchmarks/gpu/cuda-latency.sh [OUT_DIR] [LAYERS]
set -euo pipefail
out="${1:-artifacts/gpu}"
layers="${2:-8}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
dotnet build "$root/src/MLNet.Quantization.Cli" -c Release -p:OnnxRuntimeNativePackage=Microsoft.ML.OnnxRuntime.Gpu -p:OnnxRuntimeNativeVersion=1.31.0 -o "$out/cli"
dotnet run -c Release --project "$root/benchmarks/MLNet.Quantization.Benchmarks" -- weight-only "$out/models" "$layers" none
cli="$out/cli/mlnet-quantize"
float="$out/models/decoder-ffn.onnx"
for run in "dynamic-int8:" "int8-weight-only:--mode weight-only --bits 8" "int4-weight-only:--mode weight-only --bits 4" "float16:--mode float16 --half-op-types MatMul,Add,Mul,Sigmoid,Div,Sqrt,ReduceMean"; do
  name="${run%%:*}"; options="${run#*:}"
  "$cli" quantize "$float" -o "$out/models/$name.onnx" --external-data $options > /dev/null
  echo "== $name"
  "$cli" compare "$float" "$out/models/$name.onnx" --data "$out/models/data" --runs 50 --device cuda
done
