using MLNet.Quantization.ModelZoo;
using BenchmarkDotNet.Running;
using MLNet.Quantization.Benchmarks;

// "generate DIR" writes the float BERT-shaped model and test inputs (for `mlnet-quantize compare`);
// "memory MODEL" measures peak working set while quantizing; anything else runs BenchmarkDotNet.
return args.FirstOrDefault() switch
{
    "generate" => Tasks.Generate(args.ElementAtOrDefault(1) ?? "artifacts/bert"),
    "memory" => Tasks.MeasureMemory(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx"),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(BertModelBuilder).Assembly).Run(args);
    return 0;
}
