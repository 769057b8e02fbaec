using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>Closed-loop tuning: the written model meets its target on evaluation data, judged here independently with ONNX Runtime.</summary>
public class TuningTests
{
    private static readonly ExportedModel Crnn = ExportedModel.All.Single(m => m.Name == "crnn");

    private static QuantizationOptions Tuned(TuningOptions tuning) =>
        new() { Mode = QuantizationMode.Static, LatencyGuard = false, Tuning = tuning with { EvaluationData = tuning.EvaluationData ?? Crnn.Samples(8000, 12) } };

    private static double Cosine(OnnxModel a, OnnxModel b, int first, int count)
    {
        using var sa = new InferenceSession(OnnxModelFile.ToBytes(a));
        using var sb = new InferenceSession(OnnxModelFile.ToBytes(b));
        var x = new List<float>();
        var y = new List<float>();
        for (int i = first; i < first + count; i++)
        {
            using var ra = sa.Run(Crnn.Inputs(1, i));
            using var rb = sb.Run(Crnn.Inputs(1, i));
            x.AddRange(ra[0].AsTensor<float>());
            y.AddRange(rb[0].AsTensor<float>());
        }
        return Metrics.Cosine(x.ToArray(), y.ToArray());
    }

    [Fact]
    public void The_tuned_model_meets_its_cosine_target_on_the_evaluation_data_and_every_trial_is_reported()
    {
        var floatModel = Crnn.Build();
        var full = OnnxQuantizer.Quantize(floatModel, new QuantizationOptions { Mode = QuantizationMode.Static, LatencyGuard = false }, Crnn.Samples(100, 24));
        double fullCosine = Cosine(floatModel, full.Model, 8000, 12);
        double target = 1 - (1 - fullCosine) / 4;

        var tuned = OnnxQuantizer.Quantize(floatModel, Tuned(new TuningOptions { MinCosine = target }), Crnn.Samples(100, 24));

        Assert.True(Cosine(floatModel, tuned.Model, 8000, 12) >= target - 1e-9, $"target {target}\n{tuned.Report}");
        Assert.True(tuned.Report.QuantizedNodeCount > 0, tuned.Report.ToString());
        Assert.True(tuned.Report.QuantizedNodeCount < full.Report.QuantizedNodeCount);
        Assert.Contains(tuned.Report.Trials, t => t.Purpose == "full plan" && !t.MeetsTarget);
        Assert.Contains(tuned.Report.Trials, t => t.Purpose.StartsWith("sensitivity of ", StringComparison.Ordinal));
        Assert.Contains(tuned.Report.Nodes, n => n.Detail == Planning.StaticPlanner.TuningReason);
        Assert.Contains(tuned.Report.Notes, n => n.StartsWith("tuning: target met", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, tuned.Report.Trials.Count), tuned.Report.Trials.Select(t => t.Number));
    }

    [Fact]
    public void A_callers_metric_is_scored_on_float_once_and_on_every_candidate()
    {
        var descriptions = new List<string>();
        double Metric(TuningCandidate candidate)
        {
            descriptions.Add(candidate.Description);
            using var session = new InferenceSession(candidate.ModelBytes);
            using var result = session.Run(Crnn.Inputs(1, 8500));
            return result[0].AsTensor<float>().Max();
        }
        var tuned = OnnxQuantizer.Quantize(Crnn.Build(), Tuned(new TuningOptions { Metric = Metric, MaxMetricDrop = 1.0 }), Crnn.Samples(100, 16));
        Assert.Equal("float model", descriptions[0]);
        Assert.Equal(tuned.Report.Trials.Count + 1, descriptions.Count);
        Assert.True(tuned.Report.Trials[0].MeetsTarget);
        Assert.Single(tuned.Report.Trials);
    }

    [Fact]
    public void An_unreachable_target_throws_with_the_best_trial_and_the_cli_writes_nothing_unless_asked()
    {
        var options = Tuned(new TuningOptions { MinAgreement = 0.999999, MaxTrials = 2 });
        var error = Assert.Throws<TuningTargetException>(() => OnnxQuantizer.Quantize(Crnn.Build(), options, Crnn.Samples(100, 16)));
        Assert.Equal(2, error.Trials.Count);
        Assert.Contains("No plan met the target", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.Trials, t => t.Number == error.Best.Number);

        using var folder = new TempFolder();
        OnnxModelFile.Save(Crnn.Build(), folder.File("f.onnx"));
        for (int i = 0; i < 16; i++) TestDataSets.Write(folder.File($"cal/test_data_set_{i}"), Crnn.Inputs(1, 100 + i));
        for (int i = 0; i < 8; i++) TestDataSets.Write(folder.File($"eval/test_data_set_{i}"), Crnn.Inputs(1, 9000 + i));
        string[] Args(params string[] extra) => new[] { "quantize", folder.File("f.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("cal"),
            "--tune", "--evaluation-data", folder.File("eval"), "--min-agreement", "0.999999", "--max-trials", "2" }.Concat(extra).ToArray();
        var stderr = new StringWriter();
        Assert.Equal(CliApp.Failure, CliApp.Run(Args(), new StringWriter(), stderr));
        Assert.Contains("error: No plan met the target", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("q.onnx")));
        Assert.True(File.Exists(folder.File("q.onnx.tuning.md")));

        Assert.Equal(CliApp.Failure, CliApp.Run(Args("--write-best"), new StringWriter(), new StringWriter()));
        using var session = new InferenceSession(folder.File("q.onnx"));
    }

    [Fact]
    public void Tuning_without_a_target_or_outside_static_mode_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationOptions { Mode = QuantizationMode.Static, Tuning = new TuningOptions { EvaluationData = Crnn.Samples(0, 1) } }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationOptions { Tuning = new TuningOptions { EvaluationData = Crnn.Samples(0, 1), MinCosine = 0.99 } }.Validate());
        Assert.Throws<ArgumentNullException>(() => new QuantizationOptions { Mode = QuantizationMode.Static, Tuning = new TuningOptions { MinCosine = 0.99 } }.Validate());
        Assert.Equal(CliApp.BadUsage, CliApp.Run(new[] { "quantize", "x.onnx", "-o", "y.onnx", "--mode", "static", "--calibration-data", ".", "--tune" }, new StringWriter(), new StringWriter()));
    }
}
