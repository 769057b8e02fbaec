using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization;
using MLNet.Quantization.Onnx;
using TinyLlama.Model;
using TinyLlama.Text;
using TorchSharp;

namespace TinyLlama.Lab;

/// <summary>
/// Trains a Llama-shaped decoder on the built-in text with TorchSharp, exports it to ONNX (checked against TorchSharp
/// and the cache against a full pass), quantizes it every way the library can, and measures each model in ONNX Runtime
/// on held-out text: size, perplexity, next-token agreement with float, greedy tokens per second.
/// </summary>
public static class TinyLlamaLab
{
    /// <summary>Runs the lab, writes OUTPUT/report.md and returns the rows.</summary>
    public static IReadOnlyList<LabRow> Run(TinyLlamaOptions options, TextWriter log)
    {
        var config = options.Config;
        config.Validate();
        if (options.Window > config.MaxPositions) throw new ArgumentException($"Windows of {options.Window} tokens exceed the {config.MaxPositions} rotary positions.");
        Directory.CreateDirectory(options.OutputFolder);
        var corpus = TextCorpus.Generate(options.TrainReviews, options.HeldOutReviews, options.Seed);
        log.WriteLine($"Text: {corpus.Description}.");
        var trainTokens = ByteTokenizer.Encode(corpus.Train);
        var heldOutTokens = ByteTokenizer.Encode(corpus.HeldOut);

        torch.set_num_threads(options.Threads ?? Environment.ProcessorCount);
        torch.random.manual_seed(options.Seed);
        using var model = new LlamaDecoder(config);
        long parameters = model.parameters().Sum(p => p.numel());
        log.WriteLine($"Training a Llama-shaped decoder FROM SCRATCH with TorchSharp: {config.Layers} layers, hidden {config.Hidden}, {config.Heads} query / {config.KeyValueHeads} key-value heads, SwiGLU {config.Intermediate}, {parameters / 1e6:F2} M parameters; {options.Steps} steps of {options.BatchSize} x {options.Window} characters, {torch.get_num_threads()} threads ...");
        double trainLoss = LanguageModelTrainer.Train(model, trainTokens, options.Steps, options.BatchSize, options.Window, options.LearningRate, options.Seed, log);

        var floatPath = Path.Combine(options.OutputFolder, "tiny-llama.onnx");
        var weights = model.NamedTensors().ToDictionary(t => t.Name, t => t.Value.detach().contiguous().data<float>().ToArray());
        OnnxModelFile.Save(LlamaOnnxBuilder.Build(config, weights), floatPath);
        var exportError = ExportCheck.Check(model, floatPath, heldOutTokens.AsSpan(0, Math.Min(options.Window, heldOutTokens.Length)).ToArray());
        log.WriteLine($"Exported {floatPath}: ONNX Runtime vs TorchSharp logits max |diff| {exportError.Export:G3}; cached decoding vs one full pass {exportError.Cache:G3}.");

        var calibration = CalibrationData.FromInputs(Enumerable.Range(0, options.CalibrationWindows).Select(i =>
        {
            int start = (int)((long)i * (trainTokens.Length - options.Window) / Math.Max(1, options.CalibrationWindows));
            return (IReadOnlyList<NamedOnnxValue>)OnnxDecoder.Inputs(config, trainTokens.AsSpan(start, options.Window).ToArray(), OnnxDecoder.EmptyCache(config));
        }).ToList());

        var measured = new List<(LabVariant Variant, string Path, double Seconds, double Perplexity, double Agreement, string Sample)>();
        List<int>? floatArgmax = null;
        foreach (var variant in LabVariant.All.Where(v => v.Options is null || options.Only.Count == 0 || options.Only.Contains(v.Name)))
        {
            var path = floatPath;
            double seconds = 0;
            if (variant.Options is { } quantization)
            {
                path = Path.Combine(options.OutputFolder, $"tiny-llama.{variant.FileStem}.onnx");
                var clock = Stopwatch.StartNew();
                var report = OnnxQuantizer.QuantizeFile(floatPath, path, quantization, calibrationData: variant.NeedsCalibration ? calibration : null);
                seconds = clock.Elapsed.TotalSeconds;
                log.WriteLine($"{variant.Name}: {report.QuantizedNodeCount} nodes rewritten in {seconds:F1} s.");
            }
            using var decoder = new OnnxDecoder(path, config);
            var (nll, count, argmax) = decoder.Score(heldOutTokens, options.Window);
            floatArgmax ??= argmax;
            double agreement = argmax.Zip(floatArgmax, (a, f) => a == f ? 1.0 : 0.0).Average();
            var (sample, _) = decoder.Generate(options.Prompt, options.GeneratedTokens);
            measured.Add((variant, path, seconds, Math.Exp(nll / count), agreement, sample));
            log.WriteLine($"  perplexity {Math.Exp(nll / count):F4}, next-token agreement with float {agreement:P2}");
        }

        log.WriteLine($"Timing greedy decoding: {TimingRounds} interleaved rounds over the {measured.Count} models ...");
        var decoders = measured.Select(m => new OnnxDecoder(m.Path, config)).ToList();
        var speeds = decoders.Select(_ => new List<double>()).ToList();
        try
        {
            foreach (var decoder in decoders) decoder.Generate(options.Prompt, options.GeneratedTokens);
            for (int round = 0; round < TimingRounds; round++)
                for (int i = 0; i < decoders.Count; i++) speeds[i].Add(decoders[i].Generate(options.Prompt, options.GeneratedTokens).TokensPerSecond);
        }
        finally
        {
            foreach (var decoder in decoders) decoder.Dispose();
        }
        var rows = measured.Select((m, i) => new LabRow(m.Variant.Name, FileBytes(m.Path), m.Perplexity, m.Agreement, Median(speeds[i]), m.Seconds, m.Sample)).ToList();
        var header = $"# TinyLlama lab\n\n{corpus.Description}. Decoder: {config.Layers} layers, hidden {config.Hidden}, {config.Heads}/{config.KeyValueHeads} heads, SwiGLU {config.Intermediate}, {parameters / 1e6:F2} M parameters, trained {options.Steps} steps (final training loss {trainLoss:F3}). "
            + $"Perplexity per character over {heldOutTokens.Length / options.Window} held-out windows of {options.Window}; tokens/s: greedy decoding of {options.GeneratedTokens} tokens at batch 1 with the key/value cache, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, one thread, median of {TimingRounds} rounds interleaved across the models after a warm-up. Export check: max |diff| {exportError.Export:G3} (TorchSharp), {exportError.Cache:G3} (cache).";
        var markdown = LabReport.Render(rows, header);
        File.WriteAllText(Path.Combine(options.OutputFolder, "report.md"), markdown);
        log.WriteLine();
        log.WriteLine(markdown);
        return rows;
    }

    private const int TimingRounds = 7;

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static long FileBytes(string path) => new FileInfo(path).Length + (File.Exists(path + ".data") ? new FileInfo(path + ".data").Length : 0);
}
