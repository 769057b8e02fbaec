using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Calibration;
using MLNet.Quantization.Debugging;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization;

/// <summary>
/// The per-layer debugger: runs the float and the quantized model on the same inputs with every matched intermediate
/// tensor exposed, and measures each tensor's error (SQNR, cosine, max abs error), so the layer where accuracy is lost
/// can be found and excluded.
/// </summary>
public static class QuantizationDebugger
{
    /// <summary>Compares every intermediate float tensor of <paramref name="floatModel"/> with its counterpart in <paramref name="quantizedModel"/>.</summary>
    /// <param name="floatModel">The float model.</param>
    /// <param name="quantizedModel">A model this project (or another tool) quantized from it: QDQ, QOperator or dynamic.</param>
    /// <param name="data">Inputs to run, e.g. <see cref="CalibrationData.FromTestDataFolder"/> over evaluation data.</param>
    /// <param name="maxSamples">At most this many samples are run. Default: 32.</param>
    /// <param name="cancellationToken">Checked before each sample.</param>
    public static DebugReport Compare(OnnxModel floatModel, OnnxModel quantizedModel, CalibrationData data, int maxSamples = 32, CancellationToken cancellationToken = default)
    {
        if (floatModel is null) throw new ArgumentNullException(nameof(floatModel));
        if (quantizedModel is null) throw new ArgumentNullException(nameof(quantizedModel));
        if (data is null) throw new ArgumentNullException(nameof(data));
        if (maxSamples < 1) throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, "At least one sample is needed.");
        ModelVerifier.VerifyInput(floatModel, null);
        ModelVerifier.VerifyInput(quantizedModel, null);

        var floatCopy = new OnnxModel(floatModel.Proto.Clone(), floatModel.BaseDirectory);
        var quantizedCopy = new OnnxModel(quantizedModel.Proto.Clone(), quantizedModel.BaseDirectory);
        var floatTensors = AugmentedModel.FloatValues(floatCopy);
        var producers = floatCopy.Graph.Node.SelectMany(n => n.Output.Where(o => o.Length > 0).Select(o => (o, n.OpType))).ToDictionary(p => p.o, p => p.OpType, StringComparer.Ordinal);
        var candidates = floatCopy.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0 && floatTensors.Contains(o) && producers[o] != "Constant").Distinct().ToList();
        var map = TensorMatcher.Match(new GraphEditor(quantizedCopy), candidates);
        var unmatched = candidates.Where(c => !map.ContainsKey(c)).ToList();

        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var floatSession = AugmentedModel.Open(floatCopy, map.Keys, options);
        using var quantizedSession = AugmentedModel.Open(quantizedCopy, map.Values, options);
        var inputNames = floatCopy.Graph.Input.Select(i => i.Name).Where(n => floatCopy.Graph.Initializer.All(t => t.Name != n)).ToList();
        var sums = map.Keys.ToDictionary(k => k, _ => new ErrorSums(), StringComparer.Ordinal);
        int samples = 0;
        foreach (var sample in data.Read(inputNames))
        {
            if (samples == maxSamples) break;
            cancellationToken.ThrowIfCancellationRequested();
            samples++;
            using var floatResults = floatSession.Run(sample, map.Keys.ToList());
            using var quantizedResults = quantizedSession.Run(sample, map.Values.Distinct().ToList());
            var quantizedByName = quantizedResults.ToDictionary(r => r.Name, r => r, StringComparer.Ordinal);
            foreach (var result in floatResults)
            {
                var expected = Values(result.AsTensor<float>());
                var actual = Values(quantizedByName[map[result.Name]].AsTensor<float>());
                sums[result.Name].Add(expected, actual);
            }
        }
        if (samples == 0) throw new InvalidOperationException($"The data ({data.Description}) holds no samples to compare.");
        var tensors = map.Keys.Select(k => sums[k].ToComparison(k, map[k], producers[k])).Where(t => t is not null).Select(t => t!).ToList();
        unmatched.AddRange(map.Keys.Where(k => sums[k].Mismatched));
        return new DebugReport(tensors, unmatched, samples);
    }

    /// <summary>
    /// Per-node sensitivity: for every product (Conv, MatMul, Gemm) static mode would quantize, the error at the
    /// outputs on <paramref name="evaluation"/> when only that node is quantized, most sensitive first.
    /// </summary>
    /// <param name="floatModel">The float model.</param>
    /// <param name="options">Static options (format, calibration method, calibration GPU, ...); mode is taken as static.</param>
    /// <param name="calibration">Calibration inputs.</param>
    /// <param name="evaluation">Inputs the error is measured on; keep them apart from the calibration data.</param>
    /// <param name="cancellationToken">Checked between nodes.</param>
    public static IReadOnlyList<NodeSensitivity> Sensitivity(OnnxModel floatModel, QuantizationOptions options, CalibrationData calibration, CalibrationData evaluation, CancellationToken cancellationToken = default)
    {
        if (floatModel is null) throw new ArgumentNullException(nameof(floatModel));
        if (calibration is null) throw new ArgumentNullException(nameof(calibration));
        if (evaluation is null) throw new ArgumentNullException(nameof(evaluation));
        options = (options ?? new QuantizationOptions()) with { Mode = QuantizationMode.Static, Tuning = null };
        options.Validate();
        options = Calibration.CalibrationDevice.Resolve(options, calibrates: true, new List<string>());
        ModelVerifier.VerifyInput(floatModel, null);
        var graph = new GraphEditor(new OnnxModel(floatModel.Proto.Clone(), floatModel.BaseDirectory));
        Preparation.LegacyOpsetUpgrade.To9(graph);
        Preparation.OpsetUpgrade.To10(graph);
        Preparation.BatchNormFolding.Apply(graph);
        var factory = new CandidateFactory(graph.Model, options, calibration, null, cancellationToken);
        var evaluator = new Tuning.CandidateEvaluator(factory.FloatBytes, new TuningOptions { EvaluationData = evaluation, MinCosine = 1 }, factory.InputNames);
        var full = factory.Build(options.CalibrationMethod, new Dictionary<int, string>());
        var all = full.Plan.Nodes.Values.Select(n => n.GraphIndex).ToList();
        var results = new List<NodeSensitivity>();
        foreach (var product in full.Plan.Nodes.Values.Where(n => n.Kind is Operators.StaticOperatorKind.Product or Operators.StaticOperatorKind.TableLookup).OrderBy(n => n.GraphIndex))
        {
            var alone = factory.Build(options.CalibrationMethod, all.Where(i => i != product.GraphIndex).ToDictionary(i => i, _ => Planning.StaticPlanner.SensitivityReason));
            var (agreement, cosine, _, _) = evaluator.Judge(alone.Bytes, product.DisplayName);
            results.Add(new NodeSensitivity(product.DisplayName, product.Node.OpType, agreement, cosine));
        }
        return results.OrderBy(r => r.Cosine).ThenBy(r => r.Agreement).ToList();
    }

    private static float[] Values(Tensor<float> tensor) => tensor is DenseTensor<float> dense ? dense.Buffer.ToArray() : tensor.ToArray();

    private sealed class ErrorSums
    {
        private double _signal, _noise, _dot, _quantized, _maxError;
        private long _elements = -1;

        public bool Mismatched { get; private set; }

        public void Add(float[] expected, float[] actual)
        {
            if (expected.Length != actual.Length)
            {
                Mismatched = true;
                return;
            }
            _elements = Math.Max(_elements, expected.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                double f = expected[i], q = actual[i], d = f - q;
                _signal += f * f;
                _noise += d * d;
                _dot += f * q;
                _quantized += q * q;
                _maxError = Math.Max(_maxError, Math.Abs(d));
            }
        }

        public TensorComparison? ToComparison(string floatTensor, string quantizedTensor, string producer)
        {
            if (Mismatched || _elements < 0) return null;
            double sqnr = _noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(Math.Max(_signal, 1e-30) / _noise);
            double cosine = _signal == 0 || _quantized == 0 ? (_signal == _quantized ? 1 : 0) : _dot / Math.Sqrt(_signal * _quantized);
            return new TensorComparison(floatTensor, quantizedTensor, producer, sqnr, cosine, _maxError, _elements);
        }
    }
}
