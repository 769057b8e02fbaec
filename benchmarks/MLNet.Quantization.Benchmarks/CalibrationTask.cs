using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Benchmarks;

/// <summary>
/// Static quantization of the BERT-shaped model with N generated calibration sequences: peak working set while
/// quantizing, and the calibration stage's time against plain float inference over the same N samples.
/// Run once per N in a fresh process (memory figures are per process).
/// </summary>
public static class CalibrationTask
{
    /// <summary>Runs the measurement and prints the figures.</summary>
    public static int Run(string modelPath, int samples)
    {
        var shape = new BertShape();
        IEnumerable<IReadOnlyList<NamedOnnxValue>> Samples() => Enumerable.Range(0, samples).Select(i => (IReadOnlyList<NamedOnnxValue>)BertInputs.Create(1, shape, 1000 + i));
        var model = OnnxModelFile.Load(modelPath);

        var plain = Stopwatch.StartNew();
        using (var session = new InferenceSession(modelPath))
        {
            foreach (var sample in Samples()) session.Run(sample).Dispose();
        }
        plain.Stop();

        var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        long baseline = process.WorkingSet64, peak = baseline;
        using var sampler = new Timer(_ => { process.Refresh(); peak = Math.Max(peak, process.WorkingSet64); }, null, 0, 5);
        var clock = Stopwatch.StartNew();
        TimeSpan calibrationStart = default, calibrationEnd = default;
        var progress = new SynchronousProgress(p =>
        {
            if (p.Stage == "Planned") calibrationStart = clock.Elapsed;
            if (p.Stage == "Calibrating") calibrationEnd = clock.Elapsed;
        });
        var options = new QuantizationOptions { Mode = QuantizationMode.Static, MaxCalibrationSamples = samples };
        var result = OnnxQuantizer.Quantize(model, options, CalibrationData.FromInputs(Samples()), progress);
        clock.Stop();
        process.Refresh();
        peak = Math.Max(peak, process.WorkingSet64);

        var calibration = calibrationEnd - calibrationStart;
        Console.WriteLine($"samples {samples}: quantized {result.Report.QuantizedNodeCount} nodes in {clock.Elapsed.TotalSeconds:F2} s");
        Console.WriteLine($"  calibration stage {calibration.TotalSeconds:F2} s vs plain float inference {plain.Elapsed.TotalSeconds:F2} s over the same samples: {calibration / plain.Elapsed:F2}x");
        Console.WriteLine($"  peak working set growth while quantizing: {(peak - baseline) / 1e6:F1} MB (absolute peak {peak / 1e6:F1} MB)");
        return 0;
    }

    private sealed class SynchronousProgress : IProgress<QuantizationProgress>
    {
        private readonly Action<QuantizationProgress> _report;

        public SynchronousProgress(Action<QuantizationProgress> report) => _report = report;

        public void Report(QuantizationProgress value) => _report(value);
    }
}
