using BenchmarkDotNet.Running;
using MLNet.Quantization.Benchmarks;

// "generate DIR" writes the float BERT-shaped model and test inputs (for `mlnet-quantize compare`);
// "memory MODEL" measures peak working set while quantizing; "calibration MODEL N" measures static calibration
// memory and time with N samples; "exported DIR [qdq|qoperator]" quantizes and compares the exported-style models;
// "resnet18 DIR [N]" does the same for ML.NET's pretrained ResNet18 (NuGet package, opset 8) with N calibration images; anything else runs BenchmarkDotNet.
return args.FirstOrDefault() switch
{
    "generate" => Tasks.Generate(args.ElementAtOrDefault(1) ?? "artifacts/bert"),
    "memory" => Tasks.MeasureMemory(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx"),
    "exported" => ExportedModelsTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/exported", args.ElementAtOrDefault(2) ?? "qdq"),
    "resnet18" => ResNet18Task.Run(args.ElementAtOrDefault(1) ?? "artifacts/resnet18", int.Parse(args.ElementAtOrDefault(2) ?? "100")),
    "calibration" => CalibrationTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx", int.Parse(args.ElementAtOrDefault(2) ?? "100")),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(InferenceBenchmark).Assembly).Run(args);
    return 0;
}
