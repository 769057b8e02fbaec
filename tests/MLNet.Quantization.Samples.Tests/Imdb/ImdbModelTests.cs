using ImdbSentiment.Lab;
using ImdbSentiment.Model;
using ImdbSentiment.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using Sentiment.Common;

namespace MLNet.Quantization.Tests.Imdb;

public class ImdbModelTests
{
    [Fact]
    public void The_onnx_export_matches_the_torchsharp_forward_pass()
    {
        TorchTrainer.Configure(threads: 1, seed: 5);
        var config = new TransformerConfig(Vocabulary: 300, Sequence: 256);
        using var network = new SentimentNetwork(config);
        using (global::TorchSharp.torch.no_grad())
        {
            foreach (var parameter in network.parameters()) parameter.add_(global::TorchSharp.torch.rand_like(parameter) * 0.2 - 0.1);
        }
        var model = TransformerOnnxExporter.Export(network);

        using var session = new InferenceSession(OnnxModelFile.ToBytes(model));
        var random = new Random(6);
        var batch = Enumerable.Range(0, 4).Select(b => Enumerable.Range(0, 256).Select(t => t < 30 + 20 * b ? random.Next(2, 300) : 0).ToArray()).ToList();
        var ids = batch.SelectMany(s => s.Select(x => (long)x)).ToArray();
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(TransformerOnnxExporter.InputName, new DenseTensor<long>(ids, new[] { 4, 256 })) });
        var onnx = results.First().AsTensor<float>().ToArray();
        var reference = TorchTrainer.Predict(network, batch);

        Assert.Equal(4, onnx.Length);
        Assert.True(Metrics.MaxAbsDiff(reference, onnx) <= 1e-4, $"max abs diff {Metrics.MaxAbsDiff(reference, onnx):G3}");
        Assert.True(reference.Max() - reference.Min() > 1e-3, "inputs should give different outputs");
    }

    [Fact]
    public void TorchSharp_loads_in_a_fresh_process_from_the_weak_marked_output_copy_and_the_nuget_cache_copy_is_untouched()
    {
        var sampleFolder = Path.GetDirectoryName(typeof(SentimentNetwork).Assembly.Location)!;
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", new[] { Path.Combine(sampleFolder, "ImdbSentiment.dll"), "torch-info" }) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {output}{error}");
        Assert.Contains("libtorch 2.10.0", output, StringComparison.Ordinal);
        Assert.Contains("sum 4", output, StringComparison.Ordinal);

        var copy = Path.Combine(sampleFolder, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(copy), copy);
        Assert.Equal(ElfVersionNeed.State.Weak, ElfVersionNeed.Read(File.ReadAllBytes(copy), "GLIBCXX_3.4.32"));
        var cache = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(cache)) Assert.Equal(ElfVersionNeed.State.Strong, ElfVersionNeed.Read(File.ReadAllBytes(cache), "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void Vectorizer_maps_frequent_words_unknown_words_and_padding()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[] { "the film the film the", "The FILM, great!", "unseen words here" }.Select(t => new ReviewRow { Text = t }).ToList();
        var vectorizer = TextVectorizer.Fit(ml, ml.Data.LoadFromEnumerable(rows.Take(2)), vocabulary: 4);
        var ids = vectorizer.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<long[]>("input_ids").ToList();

        Assert.All(ids, v => Assert.Equal(SequenceMapping.Length, v.Length));
        Assert.Equal(new long[] { 2, 3, 2, 3, 2, 0 }, ids[0].Take(6));
        Assert.Equal(new long[] { 2, 3, 1, 0 }, ids[1].Take(4));
        Assert.Equal(new long[] { 1, 1, 1, 0 }, ids[2].Take(4));
    }

    [Fact]
    public async Task A_short_lab_run_writes_a_consistent_report()
    {
        using var folder = new TempFolder();
        var options = new LabOptions { TrainSamples = 240, TestSamples = 120, Epochs = 1, CalibrationSamples = 40, ValidationSamples = 40, LatencySamples = 20, OutputFolder = folder.Path };
        var log = new StringWriter();
        var report = await ImdbLab.RunAsync(options, log);

        var json = LabReport.FromJson(File.ReadAllText(folder.File("report.json")));
        Assert.True(json.SyntheticData);
        Assert.Contains("SYNTHETIC", log.ToString());
        Assert.Contains("NOT IMDB figures", File.ReadAllText(folder.File("report.md")));
        Assert.Equal(new[] { "float", "dynamic INT8", "static INT8", "tuned INT8", "QAT INT8" }, json.Rows.Select(r => r.Model));
        Assert.Equal(200, json.TrainReviews);
        Assert.Contains(json.Notes, n => n.StartsWith("Tuned INT8: ", StringComparison.Ordinal) && n.Contains("tuning: target met", StringComparison.Ordinal));
        Assert.Equal(options.Epochs + options.QatEpochs, json.Epochs.Count);
        Assert.All(json.Rows.Skip(1), r => Assert.True(Math.Abs(r.Accuracy - json.Rows[0].Accuracy) <= 0.1, $"{r.Model}: {r.Accuracy:P1} against float {json.Rows[0].Accuracy:P1}"));
        Assert.All(json.Rows, r => Assert.Equal(json.Rows[0].LatencyMs / r.LatencyMs, r.Speedup, 3));
        Assert.True(json.Rows[0].OnnxSizeKb / json.Rows[1].OnnxSizeKb > 3.8, $"dynamic size ratio {json.Rows[0].OnnxSizeKb / json.Rows[1].OnnxSizeKb:F2}");
        Assert.Equal(report.Rows.Select(r => r.Accuracy), json.Rows.Select(r => r.Accuracy));
        Assert.True(File.Exists(folder.File("sentiment.qat-float.onnx")), "the fine-tuned float export is kept next to its quantized form");
        foreach (var name in new[] { "float", "dynamic", "static", "tuned", "qat" })
        {
            Assert.True(File.Exists(folder.File($"sentiment.{name}.onnx")));
            Assert.True(File.Exists(folder.File($"sentiment.{name}.zip")));
        }

        var ml = new MLContext();
        ml.ComponentCatalog.RegisterAssembly(typeof(SequenceMapping).Assembly);
        var reloaded = ml.Model.Load(folder.File("sentiment.static.zip"), out _);
        var scored = reloaded.Transform(ml.Data.LoadFromEnumerable(new[] { new ReviewRow { Text = "The plot was really wonderful." } }));
        Assert.Single(scored.GetColumn<float>("Probability"));
    }
}
