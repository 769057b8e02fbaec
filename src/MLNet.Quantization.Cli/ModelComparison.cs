using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace MLNet.Quantization.Cli;

/// <summary>Output agreement and latency of a quantized model against its float original, one CPU thread each (or on a CUDA device).</summary>
internal sealed record ModelComparison(IReadOnlyList<OutputAgreement> Outputs, double FloatMedianMs, double QuantizedMedianMs, long FloatBytes, long QuantizedBytes)
{
    /// <summary>Quantized latency / float latency (below 1 is faster).</summary>
    public double LatencyRatio => QuantizedMedianMs / FloatMedianMs;

    /// <summary>Float size / quantized size (above 1 is smaller).</summary>
    public double SizeRatio => (double)FloatBytes / QuantizedBytes;

    /// <summary>Runs both models on every input set, then times <paramref name="runs"/> interleaved runs of each.</summary>
    public static ModelComparison Run(string floatPath, string quantizedPath, Func<InferenceSession, List<List<NamedOnnxValue>>> inputs, int runs, string device = "cpu")
    {
        using var options = ExecutionDevice.Options(device);
        using var floatSession = new InferenceSession(floatPath, options);
        using var quantizedSession = new InferenceSession(quantizedPath, options);
        var sets = inputs(floatSession);
        var accumulators = floatSession.OutputMetadata.Keys.ToDictionary(k => k, k => new OutputAgreement.Accumulator(k));
        foreach (var set in sets)
        {
            using var expected = floatSession.Run(set);
            using var actual = quantizedSession.Run(set);
            foreach (var e in expected)
            {
                if (e.Value is not Microsoft.ML.OnnxRuntime.Tensors.Tensor<float> reference) continue;
                var candidate = actual.First(a => a.Name == e.Name).AsTensor<float>();
                accumulators[e.Name].Add(reference, candidate);
            }
        }
        var floatTimes = new List<double>();
        var quantizedTimes = new List<double>();
        var timed = sets[0];
        for (int i = 0; i < 3; i++) { floatSession.Run(timed).Dispose(); quantizedSession.Run(timed).Dispose(); }
        for (int i = 0; i < runs; i++)
        {
            floatTimes.Add(Time(floatSession, timed));
            quantizedTimes.Add(Time(quantizedSession, timed));
        }
        return new ModelComparison(
            accumulators.Values.Where(a => a.Count > 0).Select(a => a.Result()).ToList(),
            Median(floatTimes), Median(quantizedTimes), ModelBytes(floatPath), ModelBytes(quantizedPath));
    }

    private static double Time(InferenceSession session, List<NamedOnnxValue> inputs)
    {
        var stopwatch = Stopwatch.StartNew();
        session.Run(inputs).Dispose();
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The model file's size plus its external data file, if any.</summary>
    private static long ModelBytes(string path)
    {
        long size = new FileInfo(path).Length;
        var data = path + ".data";
        return File.Exists(data) ? size + new FileInfo(data).Length : size;
    }
}
