#!/usr/bin/env bash
# Restore, build, test and pack. Packages land in ./nuget. Same steps as build.ps1.
set -euo pipefail
cd "$(dirname "$0")"
configuration="${1:-Release}"
dotnet restore MLNet.Quantization.sln
dotnet build MLNet.Quantization.sln -c "$configuration" --no-restore
dotnet test MLNet.Quantization.sln -c "$configuration" --no-build
dotnet pack src/MLNet.Quantization/MLNet.Quantization.csproj -c "$configuration" -o nuget --no-build
dotnet pack src/MLNet.Quantization.Cli/MLNet.Quantization.Cli.csproj -c "$configuration" -o nuget --no-build
dotnet pack src/MLNet.Quantization.TorchSharp/MLNet.Quantization.TorchSharp.csproj -c "$configuration" -o nuget --no-build
