using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Calibration;

/// <summary>
/// Runs the float model over calibration samples with the tensors to quantize exposed as outputs, folding each
/// sample's values into one collector per tensor before the next sample is read: memory does not grow with the
/// number of samples.
/// </summary>
internal static class ActivationObserver
{
    /// <summary>The range of each tensor in <paramref name="tensors"/> over the calibration samples.</summary>
    /// <param name="model">The float model.</param>
    /// <param name="tensors">The tensors to observe.</param>
    /// <param name="data">The calibration samples.</param>
    /// <param name="options">Calibration method, sample limit.</param>
    /// <param name="progress">Receives one report per sample.</param>
    /// <param name="elementCounts">When given, receives each tensor's element count on the first sample.</param>
    /// <param name="cancellationToken">Checked before each sample.</param>
    public static Dictionary<string, TensorRange> Observe(OnnxModel model, IReadOnlyCollection<string> tensors, CalibrationData data, QuantizationOptions options, IProgress<QuantizationProgress>? progress,
        Dictionary<string, long>? elementCounts = null, CancellationToken cancellationToken = default)
    {
        var inputNames = model.Graph.Input.Select(i => i.Name).Where(n => !model.Graph.Initializer.Any(t => t.Name == n)).ToList();
        var fromInputs = tensors.Where(inputNames.Contains).ToList();
        var fromOutputs = tensors.Except(fromInputs).ToList();
        var collectors = tensors.ToDictionary(t => t, _ => CollectorFactory.Create(options), StringComparer.Ordinal);

        using var sessionOptions = CalibrationDevice.Apply(new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL }, options);
        using var session = AugmentedModel.Open(model, fromOutputs.Count > 0 ? fromOutputs : model.Graph.Output.Select(o => o.Name), sessionOptions);
        int samples = 0;
        foreach (var sample in data.Read(inputNames))
        {
            if (samples == options.MaxCalibrationSamples) break;
            cancellationToken.ThrowIfCancellationRequested();
            samples++;
            CheckInputs(sample, samples, inputNames);
            foreach (var tensor in fromInputs)
            {
                var values = sample.First(v => v.Name == tensor).AsTensor<float>();
                if (elementCounts is not null) elementCounts.TryAdd(tensor, values.Length);
                Fold(collectors[tensor], tensor, values, samples);
            }
            if (fromOutputs.Count == 0) continue;
            IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results;
            try
            {
                results = session.Run(sample, fromOutputs);
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidOperationException($"Calibration sample {samples} was rejected by the model{CalibrationDevice.Where(options)}: {e.Message.Trim()} Check that each input has the model's shape and element type ({Describe(session)}){CalibrationDevice.Hint(options)}.", e);
            }
            using (results)
            {
                foreach (var result in results)
                {
                    var values = result.AsTensor<float>();
                    if (elementCounts is not null) elementCounts.TryAdd(result.Name, values.Length);
                    Fold(collectors[result.Name], result.Name, values, samples);
                }
            }
            progress?.Report(new QuantizationProgress("Calibrating", samples, options.MaxCalibrationSamples));
        }
        progress?.Report(new QuantizationProgress("Calibrated", samples, samples));
        if (samples == 0) throw new InvalidOperationException($"The calibration data ({data.Description}) holds no samples; static quantization needs representative inputs (100 to 1,000 are typical).");
        return collectors.ToDictionary(kv => kv.Key, kv => kv.Value.ComputeRange(), StringComparer.Ordinal);
    }

    private static void Fold(IRangeCollector collector, string tensor, Tensor<float> values, int sample)
    {
        var span = values is DenseTensor<float> dense ? dense.Buffer.Span : values.ToArray();
        if (span.IsEmpty) return;
        if (!float.IsFinite(TensorPrimitives.Sum(span)) && span.ToArray().Any(v => !float.IsFinite(v)))
            throw new InvalidOperationException($"Tensor '{tensor}' holds NaN or infinity on calibration sample {sample}; check the calibration inputs (or the float model) before quantizing.");
        collector.Add(span);
    }

    /// <summary>Throws a clear error when sample <paramref name="index"/> lacks a model input or holds NaN/infinity.</summary>
    internal static void CheckInputs(IReadOnlyList<NamedOnnxValue> sample, int index, IReadOnlyList<string> inputNames)
    {
        foreach (var name in inputNames)
        {
            var value = sample.FirstOrDefault(v => v.Name == name)
                ?? throw new InvalidOperationException($"Calibration sample {index} has no value for the model input '{name}' (it has: {string.Join(", ", sample.Select(v => v.Name))}).");
            if (value.Value is Tensor<float> tensor && tensor.ToArray().Any(v => !float.IsFinite(v)))
                throw new InvalidOperationException($"Calibration sample {index}: input '{name}' holds NaN or infinity. Clean the calibration data first.");
        }
    }

    /// <summary>The session's inputs with element types and shapes, for error messages.</summary>
    internal static string Describe(InferenceSession session) =>
        string.Join("; ", session.InputMetadata.Select(kv => $"{kv.Key}: {kv.Value.ElementType.Name}[{string.Join(",", kv.Value.Dimensions.Select(d => d < 0 ? "?" : d.ToString()))}]"));
}
