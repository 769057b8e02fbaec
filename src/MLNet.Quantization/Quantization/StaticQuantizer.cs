using MLNet.Quantization.Calibration;
using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;
using MLNet.Quantization.Preparation;
using MLNet.Quantization.Tuning;

namespace MLNet.Quantization;

/// <summary>What a static run produced: the chosen candidate's reports, notes, the tuner's trials and whether its target was met.</summary>
internal sealed record StaticOutcome(List<NodeReport> Nodes, List<TensorReport> Tensors, List<string> Notes, List<TuningTrial> Trials, string? TargetMissed, TuningTrial? BestTrial, CalibrationResult Calibration);

/// <summary>
/// Static quantization of a working copy: prepare, then build candidates (plan → calibrate → emit) from the one
/// prepared graph. Without tuning the first candidate is the full plan; with tuning, <see cref="Tuner"/> searches;
/// then the latency guard measures the choice against float and hands back integer regions that do not pay.
/// Every candidate is a fresh plan on a fresh copy; ranges are calibrated once per method and reused.
/// </summary>
internal static class StaticQuantizer
{
    /// <summary>Measured latency ratio (quantized / float) a candidate must reach to be kept by the latency guard.</summary>
    public const double LatencyTarget = 0.97;

    /// <summary>Rewrites <paramref name="graph"/> in place with the chosen candidate.</summary>
    public static StaticOutcome Run(GraphEditor graph, QuantizationOptions options, CalibrationData? data, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        OpsetUpgrade.To10(graph);
        BatchNormFolding.Apply(graph);
        var factory = new CandidateFactory(graph.Model, options, data, progress, cancellationToken);
        var notes = new List<string>();
        var trials = new List<TuningTrial>();
        string? missed = null;
        TuningTrial? best = null;
        Candidate chosen;
        if (options.Tuning is { } tuning)
        {
            var tuner = new Tuner(factory, tuning, trials);
            (chosen, missed) = tuner.Search();
            notes.Add(tuner.Summary(chosen, missed is null));
            best = tuner.BestTrial;
        }
        else chosen = factory.Build(options.CalibrationMethod, new Dictionary<int, string>());

        if (options.LatencyGuard && chosen.Plan.Nodes.Count > 0 && missed is null)
        {
            if (factory.HasData) chosen = LatencyGuard(factory, chosen, notes, trials);
            else notes.Add("latency guard skipped: no calibration sample to time the model on (ranges came from a calibration file).");
        }
        graph.Model.Proto.Graph = chosen.Graph.Model.Proto.Graph;
        graph.Model.Proto.OpsetImport.Clear();
        graph.Model.Proto.OpsetImport.AddRange(chosen.Graph.Model.Proto.OpsetImport);
        graph.Reindex();
        return new StaticOutcome(chosen.Nodes, chosen.Tensors, notes, trials, missed, best, factory.Calibration);
    }

    private static Candidate LatencyGuard(CandidateFactory factory, Candidate chosen, List<string> notes, List<TuningTrial> trials)
    {
        using var meter = new LatencyMeter(factory.FloatBytes, factory.FirstSample());
        double ratio = Measure(meter, chosen.Bytes);
        factory.Progress?.Report(new QuantizationProgress("Measured latency", 1, 1));
        if (ratio <= LatencyTarget)
        {
            notes.Add($"latency guard: {ratio:F2}x the float model's latency (one thread, ONNX Runtime), every integer region kept.");
            return chosen;
        }
        var regions = factory.RankRegions(chosen);
        int low = 0, high = regions.Count;
        (Candidate Candidate, double Ratio)? best = null;
        while (low + 1 < high)
        {
            factory.CancellationToken.ThrowIfCancellationRequested();
            int mid = (low + high) / 2;
            var trial = factory.Build(chosen.Method, KeepFloat(chosen, regions, mid));
            double trialRatio = Measure(meter, trial.Bytes);
            factory.Progress?.Report(new QuantizationProgress("Measured latency", mid, regions.Count));
            trials.Add(new TuningTrial(trials.Count + 1, $"latency guard: {mid} of {regions.Count} regions to float", trial.Method, trial.Plan.Nodes.Count, double.NaN, double.NaN, null, trialRatio <= LatencyTarget, trial.Bytes.Length, trialRatio));
            if (trialRatio <= LatencyTarget) (high, best) = (mid, (trial, trialRatio));
            else low = mid;
        }
        if (best is { } found)
        {
            notes.Add($"latency guard: the quantized model ran at {ratio:F2}x float's latency; {high} of {regions.Count} integer regions went back to float, giving {found.Ratio:F2}x.");
            return found.Candidate;
        }
        notes.Add($"latency guard: the quantized model ran at {ratio:F2}x float's latency and no integer region paid on this CPU ({Hardware.CpuFeatures.Describe()}), so every region went back to float; the weights stay float too.");
        return factory.Build(chosen.Method, KeepFloat(chosen, regions, regions.Count));
    }

    /// <summary>One interleaved measurement, repeated once near the target (within 15 %), where noise decides; the mean of both counts.</summary>
    private static double Measure(LatencyMeter meter, byte[] candidate)
    {
        double ratio = meter.Ratio(candidate);
        return ratio > LatencyTarget && ratio < LatencyTarget * 1.15 ? (ratio + meter.Ratio(candidate)) / 2 : ratio;
    }

    private static Dictionary<int, string> KeepFloat(Candidate chosen, List<IntegerRegion> regions, int count)
    {
        var keep = new Dictionary<int, string>(chosen.KeepFloat);
        foreach (var index in regions.Take(count).SelectMany(r => r.NodeIndexes)) keep.TryAdd(index, StaticPlanner.LatencyGuardReason);
        return keep;
    }
}

/// <summary>One built candidate: its graph, plan, reports and bytes.</summary>
internal sealed record Candidate(GraphEditor Graph, StaticPlan Plan, List<NodeReport> Nodes, List<TensorReport> Tensors, CalibrationMethod Method, IReadOnlyDictionary<int, string> KeepFloat, byte[] Bytes);

/// <summary>Builds candidates from the prepared graph; keeps one set of observed ranges per calibration method.</summary>
internal sealed class CandidateFactory
{
    private readonly ModelProto _prepared;
    private readonly string? _baseDirectory;
    private readonly QuantizationOptions _options;
    private readonly CalibrationData? _data;
    private readonly IReadOnlySet<string> _floatValues;

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
        FloatBytes = OnnxModelFile.ToBytes(new OnnxModel(_prepared, _baseDirectory));
    }

    public IProgress<QuantizationProgress>? Progress { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Every range known: given in the options or observed by this run.</summary>
    public CalibrationResult Calibration { get; }

    /// <summary>Whether calibration samples were given (the latency guard and missing ranges need them).</summary>
    public bool HasData => _data is not null;

    /// <summary>The run's options.</summary>
    public QuantizationOptions Options => _options;

    /// <summary>The prepared float model, the reference for latency and accuracy.</summary>
    public byte[] FloatBytes { get; }

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
            : new TensorRange(QuantMath.Dequantize(context.ActivationMin, parameters), QuantMath.Dequantize(context.ActivationMax, parameters));
        return new TensorReport(tensor, range.Min, range.Max, parameters.Scale, parameters.ZeroPoint, how);
    }
}
