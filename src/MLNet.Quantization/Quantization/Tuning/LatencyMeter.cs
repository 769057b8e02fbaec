using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace MLNet.Quantization.Tuning;

/// <summary>
/// Measures a candidate against a reference model in ONNX Runtime the way <c>mlnet-quantize compare</c> does: one
/// intra-op thread, all optimizations, warm-up, then runs alternating between the two models, median of each.
/// </summary>
internal sealed class LatencyMeter : IDisposable
{
    private readonly InferenceSession _reference;
    private readonly IReadOnlyList<NamedOnnxValue> _inputs;
    private readonly double _referenceMedian;

    /// <summary>Opens the reference model and measures it once on <paramref name="inputs"/>.</summary>
    public LatencyMeter(byte[] referenceModel, IReadOnlyList<NamedOnnxValue> inputs)
    {
        _inputs = inputs;
        _reference = Open(referenceModel);
        Warm(_reference);
        _referenceMedian = Median(Time(_reference, MinimumRuns(_reference)));
    }

    /// <summary>The reference model's median latency in milliseconds.</summary>
    public double ReferenceMilliseconds => _referenceMedian;

    /// <summary>Median latency of the candidate divided by the reference's, measured interleaved.</summary>
    public double Ratio(byte[] candidateModel)
    {
        using var candidate = Open(candidateModel);
        Warm(candidate);
        int runs = Math.Max(MinimumRuns(candidate), MinimumRuns(_reference));
        var reference = new List<double>(runs);
        var measured = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            reference.Add(TimeOnce(_reference));
            measured.Add(TimeOnce(candidate));
        }
        return Median(measured) / Median(reference);
    }

    /// <inheritdoc />
    public void Dispose() => _reference.Dispose();

    private static InferenceSession Open(byte[] model)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        return new InferenceSession(model, options);
    }

    private void Warm(InferenceSession session)
    {
        for (int i = 0; i < 3; i++) TimeOnce(session);
    }

    /// <summary>Enough runs for about 250 ms of the slower model, between 15 and 500.</summary>
    private int MinimumRuns(InferenceSession session) => Math.Clamp((int)(250 / Math.Max(TimeOnce(session), 1e-3)), 15, 500);

    private List<double> Time(InferenceSession session, int runs)
    {
        var times = new List<double>(runs);
        for (int i = 0; i < runs; i++) times.Add(TimeOnce(session));
        return times;
    }

    private double TimeOnce(InferenceSession session)
    {
        var start = Stopwatch.GetTimestamp();
        using (session.Run(_inputs)) { }
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
