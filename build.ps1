# Restore, build, test and pack. Packages land in ./nuget. Same steps as build.sh.
param([string]$Configuration = "Release")
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
function Invoke-Step([string[]]$Arguments) {
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}
Invoke-Step @("restore", "MLNet.Quantization.sln")
Invoke-Step @("build", "MLNet.Quantization.sln", "-c", $Configuration, "--no-restore")
Invoke-Step @("test", "MLNet.Quantization.sln", "-c", $Configuration, "--no-build")
Invoke-Step @("pack", "src/MLNet.Quantization/MLNet.Quantization.csproj", "-c", $Configuration, "-o", "nuget", "--no-build")
Invoke-Step @("pack", "src/MLNet.Quantization.Cli/MLNet.Quantization.Cli.csproj", "-c", $Configuration, "-o", "nuget", "--no-build")
Invoke-Step @("pack", "src/MLNet.Quantization.TorchSharp/MLNet.Quantization.TorchSharp.csproj", "-c", $Configuration, "-o", "nuget", "--no-build")
