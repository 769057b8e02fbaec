using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Sentiment.Common;

/// <summary>Median latency of several models at batch 1, one thread each, runs interleaved so drift hits all alike.</summary>
public static class LatencyMeter
{
    /// <summary>Median milliseconds per single-review run, per model file, over <paramref name="sequences"/> fed to one input.</summary>
    public static double[] Measure(IReadOnlyList<string> modelPaths, IReadOnlyList<long[]> sequences, string inputName) =>
        Measure(modelPaths, sequences.Select(s => (IReadOnlyList<NamedOnnxValue>)new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<long>(s, new[] { 1, s.Length })) }).ToList());

    /// <summary>Median milliseconds per run, per model file, over the given input sets.</summary>
    public static double[] Measure(IReadOnlyList<string> modelPaths, IReadOnlyList<IReadOnlyList<NamedOnnxValue>> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        var sessions = modelPaths.Select(p => new InferenceSession(p, options)).ToList();
        try
        {
            foreach (var session in sessions) for (int i = 0; i < Math.Min(10, inputs.Count); i++) session.Run(inputs[i]).Dispose();
            var times = modelPaths.Select(_ => new List<double>()).ToList();
            foreach (var input in inputs)
            {
                for (int m = 0; m < sessions.Count; m++)
                {
                    var clock = Stopwatch.StartNew();
                    sessions[m].Run(input).Dispose();
                    times[m].Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            return times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }
}
