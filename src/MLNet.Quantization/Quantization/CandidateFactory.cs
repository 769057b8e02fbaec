using MLNet.Quantization.Calibration;
using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization;

/// <summary>Builds candidates from the prepared graph; keeps one set of observed ranges per calibration method.</summary>
internal sealed class CandidateFactory
{
    private readonly ModelProto _prepared;
    private readonly string? _baseDirectory;
    private readonly QuantizationOptions _options;
    private readonly CalibrationData? _data;
    private readonly IReadOnlySet<string> _floatValues;
    private readonly Lazy<byte[]> _floatBytes;

    public CandidateFactory(OnnxModel prepared, QuantizationOptions options, CalibrationData? data, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        Calibration = options.Calibration?.Copy() ?? new CalibrationResult();
        if (options.Calibration is { } given && given.ModelName.Length > 0 && given.ModelName != prepared.Graph.Name)
            throw new InvalidOperationException($"The calibration ranges were observed on the model '{given.ModelName}', not on '{prepared.Graph.Name}'. Calibrate this model (or pass the file written for it).");
        Calibration.ModelName = prepared.Graph.Name;
        _prepared = prepared.Proto.Clone();
        _baseDirectory = prepared.BaseDirectory;
        (_options, _data, Progress, CancellationToken) = (options, data, progress, cancellationToken);
        _floatValues = AugmentedModel.FloatValues(prepared);
        _floatBytes = new Lazy<byte[]>(() => OnnxModelFile.ToBytes(new OnnxModel(_prepared, _baseDirectory)));
    }

    public IProgress<QuantizationProgress>? Progress { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Every range known: given in the options or observed by this run.</summary>
    public CalibrationResult Calibration { get; }

    /// <summary>Whether calibration samples were given (the latency guard and missing ranges need them).</summary>
    public bool HasData => _data is not null;

    /// <summary>The run's options.</summary>
    public QuantizationOptions Options => _options;

    /// <summary>The prepared float model, the reference for latency and accuracy (serialized only when the guard or the tuner asks).</summary>
    public byte[] FloatBytes => _floatBytes.Value;

    /// <summary>Element counts of observed tensors on the first calibration sample.</summary>
    public Dictionary<string, long> ElementCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>The prepared model's run-time inputs.</summary>
    public IReadOnlyList<string> InputNames => _prepared.Graph.Input.Select(i => i.Name).Where(n => _prepared.Graph.Initializer.All(t => t.Name != n)).ToList();

    /// <summary>The first calibration sample, for latency measurement.</summary>
    public IReadOnlyList<Microsoft.ML.OnnxRuntime.NamedOnnxValue> FirstSample() => _data!.Read(InputNames).First();

    /// <summary>
    /// The integer regions of a candidate's plan, least payoff first. Found on a freshly planned, not yet emitted copy:
    /// the emitted graph holds rewritten nodes and no float weights, so the plan's node identities and weight shapes
    /// are only valid before emission.
    /// </summary>
    public List<IntegerRegion> RankRegions(Candidate candidate)
    {
        var graph = new GraphEditor(new OnnxModel(_prepared.Clone(), _baseDirectory));
        var plan = StaticPlanner.Plan(graph, _options with { CalibrationMethod = candidate.Method }, _floatValues, candidate.KeepFloat);
        return IntegerRegion.Find(graph, plan, ElementCounts).OrderBy(r => r.Payoff).ToList();
    }

    /// <summary>Plans a fresh copy with <paramref name="keepFloat"/> kept float, calibrates what is missing, emits and serializes it.</summary>
    public Candidate Build(CalibrationMethod method, IReadOnlyDictionary<int, string> keepFloat)
    {
        CancellationToken.ThrowIfCancellationRequested();
        var options = _options with { CalibrationMethod = method };
        var graph = new GraphEditor(new OnnxModel(_prepared.Clone(), _baseDirectory));
        var plan = StaticPlanner.Plan(graph, options, _floatValues, keepFloat);
        Progress?.Report(new QuantizationProgress("Planned", plan.Nodes.Count, plan.Nodes.Count + plan.FloatNodes.Count));
        var ranges = Calibration.Table(method);
        var missing = plan.TensorsToObserve().Where(t => !ranges.ContainsKey(t) && Fixed(t) is null).ToList();
        if (missing.Count > 0)
        {
            var data = _data ?? throw new InvalidOperationException($"The given calibration ranges have no {method} range for {missing.Count} tensor(s) this plan quantizes (e.g. '{missing[0]}'); pass calibration data too.");
            foreach (var (tensor, range) in ActivationObserver.Observe(graph.Model, missing, data, options, Progress, ElementCounts, CancellationToken))
                ranges[tensor] = range;
        }
        foreach (var tensor in plan.TensorsToObserve()) plan.Ranges[tensor] = Fixed(tensor) ?? ranges[tensor];
        var context = new StaticEmitContext(graph, options, plan);
        var nodes = options.Format == QuantizationFormat.Qdq ? QdqEmitter.Emit(context) : QOperatorEmitter.Emit(context);
        nodes.AddRange(plan.FloatNodes);
        var tensors = plan.ActivationTensors.OrderBy(t => t, StringComparer.Ordinal).Select(t => Describe(context, t)).ToList();
        graph.RemoveUnusedValues();
        return new Candidate(graph, plan, nodes, tensors, method, keepFloat, OnnxModelFile.ToBytes(graph.Model));
    }

    private TensorRange? Fixed(string tensor) =>
        _options.Overrides?.Tensors.TryGetValue(tensor, out var forced) == true && forced.Min is { } min && forced.Max is { } max ? new TensorRange(min, max) : null;

    private TensorReport Describe(StaticEmitContext context, string tensor)
    {
        var plan = context.Plan;
        var source = plan.ParameterSource(tensor);
        var parameters = context.ActivationParameters(tensor);
        var how = plan.TableOutputs.Contains(source) ? "embedding table" : source != tensor ? $"shared with {source}" : Fixed(tensor) is not null ? "fixed by an override" : "calibrated";
        var range = plan.Ranges.TryGetValue(source, out var r)
            ? r
            : new TensorRange(QuantMath.Dequantize(context.ActivationRange(tensor).Min, parameters), QuantMath.Dequantize(context.ActivationRange(tensor).Max, parameters));
        return new TensorReport(tensor, range.Min, range.Max, parameters.Scale, parameters.ZeroPoint, how);
    }
}
