#!/usr/bin/env bash
# Float / INT8 / INT4 latency with ONNX Runtime's CUDA provider, and calibration on CUDA against the CPU, on a machine
# with an NVIDIA GPU and the CUDA libraries ONNX Runtime 1.31.0 links (CUDA 13: libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13, libcurand.so.10; cuDNN 9).
# Builds the CLI against Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0, builds the decoder-shaped feed-forward stack of the
# weight-only benchmark (LAYERS blocks, hidden 2048), quantizes it (dynamic INT8, weight-only INT8 and INT4, float16)
# and runs `compare --device cuda` for each; then calibrates static INT8 and GPTQ INT4 with --device cuda and with
# --device cpu, timing each, and compares the results with float on the CPU.
# Usage: benchmarks/gpu/cuda-latency.sh [OUT_DIR] [LAYERS]; CLI_DIR=folder uses a CLI built that way beforehand (a
# machine that cannot reach NuGet).
set -euo pipefail
out="${1:-artifacts/gpu}"
layers="${2:-8}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
cli_dir="${CLI_DIR:-$out/cli}"
if [ -z "${CLI_DIR:-}" ]; then
  dotnet build "$root/src/MLNet.Quantization.Cli" -c Release -p:OnnxRuntimeNativePackage=Microsoft.ML.OnnxRuntime.Gpu.Linux -p:OnnxRuntimeNativeVersion=1.31.0 -o "$cli_dir"
fi
provider="$cli_dir/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so"
if [ ! -f "$provider" ]; then
  echo "$cli_dir has no libonnxruntime_providers_cuda.so: it was built against the CPU build of ONNX Runtime." >&2
  exit 1
fi
missing="$(ldd "$provider" | grep 'not found' || true)"
if [ -n "$missing" ]; then
  echo "ONNX Runtime's CUDA provider cannot load here; missing libraries:" >&2
  echo "$missing" >&2
  exit 1
fi
# cuDNN is loaded at run time, not linked, so ldd cannot see it.
ldconfig -p | grep -q 'libcudnn.so.9' || echo "warning: libcudnn.so.9 is not in the loader cache; Conv and some fused kernels will fail on CUDA." >&2
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
dotnet run -c Release --project "$root/benchmarks/MLNet.Quantization.Benchmarks" -- weight-only "$out/models" "$layers" none
cli="$cli_dir/mlnet-quantize"
float="$out/models/decoder-ffn.onnx"
for run in "dynamic-int8:" "int8-weight-only:--mode weight-only --bits 8" "int4-weight-only:--mode weight-only --bits 4" "float16:--mode float16 --half-op-types MatMul,Add,Mul,Sigmoid,Div,Sqrt,ReduceMean"; do
  name="${run%%:*}"; options="${run#*:}"
  "$cli" quantize "$float" -o "$out/models/$name.onnx" --external-data $options > /dev/null
  echo "== $name"
  "$cli" compare "$float" "$out/models/$name.onnx" --data "$out/models/data" --runs 50 --device cuda
done
for run in "static-int8:--mode static --latency-guard false" "gptq-int4:--mode weight-only --bits 4 --algorithm gptq"; do
  name="${run%%:*}"; options="${run#*:}"
  for device in cuda cpu; do
    start=$(date +%s%N)
    "$cli" quantize "$float" -o "$out/models/$name-$device.onnx" --external-data --calibration-data "$out/models/calibration" --device "$device" $options > /dev/null
    echo "== $name, calibrated on $device: the whole quantize command (load, verify, calibrate, write, verify) took $(( ($(date +%s%N) - start) / 1000000 )) ms"
    "$cli" compare "$float" "$out/models/$name-$device.onnx" --data "$out/models/data" --runs 5
  done
done
