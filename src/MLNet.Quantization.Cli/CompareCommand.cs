using System.CommandLine;
using System.Globalization;

namespace MLNet.Quantization.Cli;

/// <summary><c>compare FLOAT.onnx QUANT.onnx [--data DIR] [--runs N]</c>.</summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter output)
    {
        var floatModel = new Argument<FileInfo>("float-model") { Description = "The float ONNX model." };
        var quantizedModel = new Argument<FileInfo>("quantized-model") { Description = "The quantized ONNX model." };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Folder in the ONNX test-data layout (test_data_set_*/input_*.pb); random inputs if omitted." };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each model (interleaved, one thread, median).", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Value for symbolic dimensions of random inputs.", DefaultValueFactory = _ => 1 };
        var samples = new Option<int>("--samples") { Description = "Random input sets compared for agreement.", DefaultValueFactory = _ => 8 };
        var integerMax = new Option<int>("--int-max") { Description = "Random integer inputs are drawn from [0, N).", DefaultValueFactory = _ => 100 };
        var device = ExecutionDevice.CreateOption("cpu (ONNX Runtime's CPU provider, one thread) or cuda / cuda:N (its CUDA provider on device 0 / N; needs the CLI built against Microsoft.ML.OnnxRuntime.Gpu 1.31.0, and CUDA 13 + cuDNN 9).");
        runs.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--runs must be at least 1."); });
        batch.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--batch must be at least 1."); });

        var command = new Command("compare", "Compare a quantized model with its float original: agreement, latency, size.")
        {
            floatModel, quantizedModel, data, runs, batch, samples, integerMax, device,
        };
        command.SetAction(parse =>
        {
            var floatFile = parse.GetValue(floatModel)!;
            var quantizedFile = parse.GetValue(quantizedModel)!;
            foreach (var file in new[] { floatFile, quantizedFile })
                if (!file.Exists) throw new FileNotFoundException($"Model file '{file.FullName}' was not found.");
            var dataDirectory = parse.GetValue(data);
            var comparison = ModelComparison.Run(
                floatFile.FullName, quantizedFile.FullName,
                session => dataDirectory is null
                    ? ComparisonInputs.Random(session, Math.Max(1, parse.GetValue(samples)), parse.GetValue(batch), Math.Max(1, parse.GetValue(integerMax)), seed: 1234)
                    : ComparisonInputs.FromDirectory(dataDirectory.FullName, session),
                parse.GetValue(runs), parse.GetValue(device)!);
            Print(comparison, output, parse.GetValue(device)!);
            return CliApp.Success;
        });
        return command;
    }

    private static void Print(ModelComparison comparison, TextWriter output, string device)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(c, "{0,-24} {1,14} {2,12} {3,10}", "output", "max abs diff", "cosine", "argmax"));
        foreach (var o in comparison.Outputs)
            output.WriteLine(string.Format(c, "{0,-24} {1,14:G4} {2,12:F6} {3,9:P1}", o.Name, o.MaxAbsDiff, o.Cosine, o.ArgmaxAgreement));
        output.WriteLine(string.Format(c, "latency ({3}, median): float {0:F3} ms, quantized {1:F3} ms, ratio {2:F2}", comparison.FloatMedianMs, comparison.QuantizedMedianMs, comparison.LatencyRatio, ExecutionDevice.Describe(device)));
        output.WriteLine(string.Format(c, "size: float {0:F1} KiB, quantized {1:F1} KiB, {2:F2}x smaller", comparison.FloatBytes / 1024.0, comparison.QuantizedBytes / 1024.0, comparison.SizeRatio));
    }
}
