using BenchmarkDotNet.Running;
using MLNet.Quantization.Benchmarks;

// "generate DIR" writes the float BERT-shaped model and test inputs (for `mlnet-quantize compare`);
// "memory MODEL" measures peak working set while quantizing; "calibration MODEL N" measures static calibration
// memory and time with N samples; anything else runs BenchmarkDotNet.
return args.FirstOrDefault() switch
{
    "generate" => Tasks.Generate(args.ElementAtOrDefault(1) ?? "artifacts/bert"),
    "memory" => Tasks.MeasureMemory(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx"),
    "calibration" => CalibrationTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx", int.Parse(args.ElementAtOrDefault(2) ?? "100")),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(InferenceBenchmark).Assembly).Run(args);
    return 0;
}
