using MLNet.Quantization.ModelZoo;
using BenchmarkDotNet.Running;
using MLNet.Quantization.Benchmarks;

// "generate DIR" writes the float BERT-shaped model and test inputs (for `mlnet-quantize compare`);
// "memory MODEL" measures peak working set while quantizing; "calibration MODEL N" measures static calibration
// memory and time with N samples; "exported DIR [qdq|qoperator]" quantizes and compares the exported-style models;
// "weight-only DIR [LAYERS] [RUNS]" quantizes a 1.1 GB decoder-shaped feed-forward stack to 4/8-bit weight-only and dynamic INT8 and compares each at batch 1;
// "streaming DIR [LAYERS] [RUNS]" writes a decoder over 4 GB in external data and measures the quantizing process's peak working set (INT4 and dynamic INT8);
// "torch-decoder DIR" judges the weight-only formats on a decoder PyTorch exported (benchmarks/torch-export/export_decoder.py DIR first);
// "fuzz N" runs the fuzz property over N mutated models; "resnet18 DIR [N]" does the same for ML.NET's pretrained ResNet18 (NuGet package, opset 8) with N calibration images; anything else runs BenchmarkDotNet.
return args.FirstOrDefault() switch
{
    "generate" => Tasks.Generate(args.ElementAtOrDefault(1) ?? "artifacts/bert"),
    "memory" => Tasks.MeasureMemory(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx"),
    "exported" => ExportedModelsTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/exported", args.ElementAtOrDefault(2) ?? "qdq"),
    "resnet18" => ResNet18Task.Run(args.ElementAtOrDefault(1) ?? "artifacts/resnet18", int.Parse(args.ElementAtOrDefault(2) ?? "100")),
    "streaming" => StreamingTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/streaming", int.Parse(args.ElementAtOrDefault(2) ?? "4"), args.ElementAtOrDefault(3)),
    "weight-only" => WeightOnlyTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/weight-only", int.Parse(args.ElementAtOrDefault(2) ?? "8"), args.ElementAtOrDefault(3)),
    "torch-decoder" => TorchDecoderTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/torch-decoder"),
    "fuzz" => Fuzz(int.Parse(args.ElementAtOrDefault(1) ?? "10000")),
    "calibration" => CalibrationTask.Run(args.ElementAtOrDefault(1) ?? "artifacts/bert/bert.onnx", int.Parse(args.ElementAtOrDefault(2) ?? "100")),
    _ => RunBenchmarks(args),
};

static int Fuzz(int cases)
{
    var bases = new[]
    {
        CnnModelBuilder.Build(new CnnShape(new[] { 4, 8 }, ImageSize: 8)),
        CnnModelBuilder.Build(new CnnShape(new[] { 4, 8 }, ImageSize: 8, Opset: 9, WeightsInConstantNodes: true, Relu6: true, DecomposedNorm: true)),
        ExportedModelBuilder.Crnn(),
        BertModelBuilder.Build(new BertShape(Vocabulary: 200, Hidden: 32, Layers: 1, Heads: 2, FeedForward: 64, MaxPositions: 16, Sequence: 8)),
    }.Select(MLNet.Quantization.Onnx.OnnxModelFile.ToBytes).ToList();
    var watch = System.Diagnostics.Stopwatch.StartNew();
    Console.WriteLine($"{ModelFuzzer.Check(bases, cases)}; 0 violations; {watch.Elapsed.TotalSeconds:F0} s.");
    return 0;
}

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(InferenceBenchmark).Assembly).Run(args);
    return 0;
}
