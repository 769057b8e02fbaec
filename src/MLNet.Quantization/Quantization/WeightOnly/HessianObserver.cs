using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Calibration;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// GPTQ's statistics: for each MatMul input A (rows of K values), H = Σ xᵀx over every row of every calibration
/// sample, observed on the float model. Hessians are gathered a group at a time, in graph order, so that no more
/// than <see cref="MemoryBudgetBytes"/> of them are held at once; each group is one pass over the calibration data.
/// </summary>
internal sealed class HessianObserver
{
    /// <summary>Largest total size of the Hessians held at once (K² doubles each), beyond the one being requested.</summary>
    public const long MemoryBudgetBytes = 512L << 20;

    private readonly OnnxModel _model;
    private readonly IReadOnlyList<(string Tensor, int K)> _inputs;
    private readonly CalibrationData _data;
    private readonly QuantizationOptions _options;
    private readonly IProgress<QuantizationProgress>? _progress;
    private readonly CancellationToken _cancellationToken;
    private Dictionary<string, double[]> _group = new(StringComparer.Ordinal);

    /// <summary>Prepares to observe <paramref name="inputs"/> (tensor name and K, in the order they will be asked for).</summary>
    public HessianObserver(OnnxModel model, IReadOnlyList<(string Tensor, int K)> inputs, CalibrationData data, QuantizationOptions options, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        _model = model;
        _inputs = inputs;
        _data = data;
        _options = options;
        _progress = progress;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Number of calibration passes made so far.</summary>
    public int Passes { get; private set; }

    /// <summary>The K×K Hessian of <paramref name="tensor"/>, row-major; observes its group first when needed.</summary>
    public double[] For(string tensor)
    {
        if (_group.TryGetValue(tensor, out var hessian)) return hessian;
        int start = -1;
        for (int i = 0; i < _inputs.Count && start < 0; i++) if (_inputs[i].Tensor == tensor) start = i;
        if (start < 0) throw new InvalidOperationException($"No Hessian was planned for '{tensor}'.");
        var group = new List<(string Tensor, int K)>();
        long bytes = 0;
        foreach (var input in _inputs.Skip(start))
        {
            long size = 8L * input.K * input.K;
            if (group.Count > 0 && bytes + size > MemoryBudgetBytes) break;
            if (group.Any(g => g.Tensor == input.Tensor)) continue;
            group.Add(input);
            bytes += size;
        }
        _group = Observe(group);
        return _group[tensor];
    }

    private Dictionary<string, double[]> Observe(IReadOnlyList<(string Tensor, int K)> group)
    {
        Passes++;
        var sums = group.ToDictionary(g => g.Tensor, g => new double[(long)g.K * g.K], StringComparer.Ordinal);
        var widths = group.ToDictionary(g => g.Tensor, g => g.K, StringComparer.Ordinal);
        var inputNames = _model.Graph.Input.Select(i => i.Name).Where(n => _model.Graph.Initializer.All(t => t.Name != n)).ToList();
        var fromOutputs = group.Select(g => g.Tensor).Where(t => !inputNames.Contains(t)).ToList();
        using var sessionOptions = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = AugmentedModel.Open(_model, fromOutputs.Count > 0 ? fromOutputs : _model.Graph.Output.Select(o => o.Name), sessionOptions);
        int samples = 0;
        foreach (var sample in _data.Read(inputNames))
        {
            if (samples == _options.MaxCalibrationSamples) break;
            _cancellationToken.ThrowIfCancellationRequested();
            samples++;
            ActivationObserver.CheckInputs(sample, samples, inputNames);
            foreach (var value in sample.Where(v => sums.ContainsKey(v.Name))) Accumulate(value.Name, value.AsTensor<float>(), sums, widths);
            if (fromOutputs.Count > 0)
            {
                IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results;
                try
                {
                    results = session.Run(sample, fromOutputs);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new InvalidOperationException($"Calibration sample {samples} was rejected by the model: {e.Message.Trim()} Check that each input has the model's shape and element type ({ActivationObserver.Describe(session)}).", e);
                }
                using (results)
                {
                    foreach (var result in results) Accumulate(result.Name, result.AsTensor<float>(), sums, widths);
                }
            }
            _progress?.Report(new QuantizationProgress($"GPTQ statistics (pass {Passes})", samples, _options.MaxCalibrationSamples));
        }
        if (samples == 0) throw new InvalidOperationException($"The calibration data ({_data.Description}) holds no samples; GPTQ needs representative inputs (128 or more rows are typical).");
        return sums;
    }

    private static void Accumulate(string name, Tensor<float> values, Dictionary<string, double[]> sums, Dictionary<string, int> widths)
    {
        var data = values is DenseTensor<float> dense ? dense.Buffer.Span : values.ToArray();
        int k = widths[name];
        if (data.Length % k != 0) throw new InvalidOperationException($"Tensor '{name}' holds {data.Length} values, not rows of {k}.");
        if (!float.IsFinite(TensorPrimitives.Sum(data)) && data.ToArray().Any(v => !float.IsFinite(v))) throw new InvalidOperationException($"Tensor '{name}' holds NaN or infinity on a calibration sample; check the calibration inputs.");
        var hessian = sums[name];
        int rows = data.Length / k;
        var block = new double[(long)rows * k];
        for (int i = 0; i < block.Length; i++) block[i] = data[i];
        Parallel.For(0, k, i =>
        {
            var target = hessian.AsSpan(i * k, k);
            for (int r = 0; r < rows; r++)
            {
                double xi = block[(long)r * k + i];
                if (xi != 0) TensorPrimitives.MultiplyAdd<double>(block.AsSpan(r * k, k), xi, target, target);
            }
        });
    }
}
