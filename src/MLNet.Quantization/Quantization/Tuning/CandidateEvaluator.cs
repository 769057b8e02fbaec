using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Tuning;

/// <summary>
/// Judges candidates against the float model on the evaluation data, which is read once and kept: argmax agreement
/// over each output's last axis, cosine over all float outputs, and the caller's metric.
/// </summary>
internal sealed class CandidateEvaluator
{
    private readonly TuningOptions _tuning;
    private readonly List<IReadOnlyList<NamedOnnxValue>> _samples;
    private readonly List<Dictionary<string, (float[] Values, int Last)>> _reference;

    /// <summary>Reads the evaluation samples and runs the float model on them.</summary>
    public CandidateEvaluator(byte[] floatModel, TuningOptions tuning, IReadOnlyList<string> inputNames)
    {
        _tuning = tuning;
        _samples = tuning.EvaluationData!.Read(inputNames).Take(tuning.MaxEvaluationSamples).ToList();
        if (_samples.Count == 0) throw new InvalidOperationException($"The evaluation data ({tuning.EvaluationData.Description}) holds no samples.");
        _reference = RunAll(floatModel);
        if (tuning.Metric is not null) FloatMetric = tuning.Metric(new TuningCandidate(floatModel, "float model"));
    }

    /// <summary>The caller's metric on the float model, when a metric was given.</summary>
    public double? FloatMetric { get; }

    /// <summary>Evaluation samples read.</summary>
    public int SampleCount => _samples.Count;

    /// <summary>Scores a candidate.</summary>
    public (double Agreement, double Cosine, double? Metric, bool Meets) Judge(byte[] candidate, string description)
    {
        var outputs = RunAll(candidate);
        long positions = 0, agreeing = 0;
        double dot = 0, expectedNorm = 0, actualNorm = 0;
        for (int s = 0; s < outputs.Count; s++)
        {
            foreach (var (name, (expected, last)) in _reference[s])
            {
                var actual = outputs[s][name].Values;
                for (int i = 0; i < expected.Length; i++)
                {
                    dot += (double)expected[i] * actual[i];
                    expectedNorm += (double)expected[i] * expected[i];
                    actualNorm += (double)actual[i] * actual[i];
                }
                for (int start = 0; start + last <= expected.Length; start += last)
                {
                    positions++;
                    if (ArgMax(expected, start, last) == ArgMax(actual, start, last)) agreeing++;
                }
            }
        }
        double agreement = positions == 0 ? 1 : (double)agreeing / positions;
        double cosine = expectedNorm == 0 || actualNorm == 0 ? (expectedNorm == actualNorm ? 1 : 0) : dot / Math.Sqrt(expectedNorm * actualNorm);
        double? metric = _tuning.Metric?.Invoke(new TuningCandidate(candidate, description));
        bool meets = (_tuning.MinAgreement is not { } a || agreement >= a)
            && (_tuning.MinCosine is not { } c || cosine >= c)
            && (metric is not { } m || FloatMetric!.Value - m <= _tuning.MaxMetricDrop);
        return (agreement, cosine, metric, meets);
    }

    /// <summary>How far a judged candidate is from float on the first target set (0 = as good as float).</summary>
    public double Error(double agreement, double cosine, double? metric) =>
        _tuning.MinAgreement is not null ? 1 - agreement
        : _tuning.MinCosine is not null ? 1 - cosine
        : FloatMetric!.Value - metric!.Value;

    private List<Dictionary<string, (float[] Values, int Last)>> RunAll(byte[] model)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        var all = new List<Dictionary<string, (float[], int)>>(_samples.Count);
        foreach (var sample in _samples)
        {
            using var results = session.Run(sample);
            var outputs = new Dictionary<string, (float[], int)>(StringComparer.Ordinal);
            foreach (var result in results)
            {
                if (result.Value is not Tensor<float> tensor) continue;
                int last = tensor.Dimensions.Length == 0 ? 1 : Math.Max(1, tensor.Dimensions[^1]);
                outputs[result.Name] = (tensor.ToArray(), last);
            }
            all.Add(outputs);
        }
        return all;
    }

    private static int ArgMax(float[] values, int start, int count)
    {
        int best = start;
        for (int i = start + 1; i < start + count; i++) if (values[i] > values[best]) best = i;
        return best - start;
    }
}
