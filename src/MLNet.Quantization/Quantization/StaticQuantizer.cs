using Google.Protobuf;
using MLNet.Quantization.Calibration;
using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;
using MLNet.Quantization.Preparation;
using MLNet.Quantization.Tuning;

namespace MLNet.Quantization;

/// <summary>
/// Static quantization of a working copy: prepare, plan, calibrate, emit — and, with the latency guard, measure the
/// candidate against float and re-plan with the integer regions that do not pay handed back to float. Ranges are
/// calibrated once and reused by every re-plan (a re-plan that needs a tensor not yet observed calibrates only that).
/// </summary>
internal static class StaticQuantizer
{
    /// <summary>Measured latency ratio (quantized / float) a candidate must reach to be kept by the latency guard.</summary>
    public const double LatencyTarget = 0.97;

    /// <summary>Rewrites <paramref name="graph"/> in place; returns node and tensor reports and notes for the report.</summary>
    public static (List<NodeReport> Nodes, List<TensorReport> Tensors, List<string> Notes) Run(GraphEditor graph, QuantizationOptions options, CalibrationData data, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        OpsetUpgrade.To10(graph);
        BatchNormFolding.Apply(graph);
        var floatValues = AugmentedModel.FloatValues(graph.Model);
        var prepared = graph.Model.Proto.Clone();
        var calibration = new Calibration(data, options, progress, cancellationToken);

        var full = Attempt(graph, options, floatValues, calibration, keepFloat: null);
        var notes = new List<string>();
        if (!options.LatencyGuard || full.Plan.Nodes.Count == 0) return Finish(full, notes);

        using var meter = new LatencyMeter(OnnxModelFile.ToBytes(new OnnxModel(prepared, graph.Model.BaseDirectory)), calibration.FirstSample(graph.Model));
        double ratio = meter.Ratio(ToBytes(graph));
        progress?.Report(new QuantizationProgress("Measured latency", 1, 1));
        if (ratio <= LatencyTarget)
        {
            notes.Add($"latency guard: {ratio:F2}x the float model's latency (one thread, ONNX Runtime), every integer region kept.");
            return Finish(full, notes);
        }

        var regions = IntegerRegion.Find(graph, full.Plan, calibration.ElementCounts).OrderBy(r => r.Payoff).ToList();
        int low = 0, high = regions.Count;
        double bestRatio = double.NaN;
        OnnxModel? best = null;
        Result? bestResult = null;
        while (low + 1 < high)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int mid = (low + high) / 2;
            var trial = new GraphEditor(new OnnxModel(prepared.Clone(), graph.Model.BaseDirectory));
            var result = Attempt(trial, options, floatValues, calibration, KeepFloat(regions, mid));
            double trialRatio = meter.Ratio(ToBytes(trial));
            progress?.Report(new QuantizationProgress("Measured latency", mid, regions.Count));
            if (trialRatio <= LatencyTarget)
            {
                (high, best, bestResult, bestRatio) = (mid, trial.Model, result, trialRatio);
            }
            else low = mid;
        }
        if (best is null)
        {
            var trial = new GraphEditor(new OnnxModel(prepared.Clone(), graph.Model.BaseDirectory));
            bestResult = Attempt(trial, options, floatValues, calibration, KeepFloat(regions, regions.Count));
            best = trial.Model;
            notes.Add($"latency guard: the quantized model ran at {ratio:F2}x float's latency and no integer region paid on this CPU ({Hardware.CpuFeatures.Describe()}), so every region went back to float; the weights stay float too.");
        }
        else
        {
            notes.Add($"latency guard: the fully quantized model ran at {ratio:F2}x float's latency; {high} of {regions.Count} integer regions went back to float, giving {bestRatio:F2}x.");
        }
        graph.Model.Proto.Graph = best.Proto.Graph;
        graph.Model.Proto.OpsetImport.Clear();
        graph.Model.Proto.OpsetImport.AddRange(best.Proto.OpsetImport);
        graph.Reindex();
        return Finish(bestResult!, notes);
    }

    private static IReadOnlySet<int> KeepFloat(List<IntegerRegion> regions, int count) =>
        regions.Take(count).SelectMany(r => r.NodeIndexes).ToHashSet();

    private static byte[] ToBytes(GraphEditor graph)
    {
        graph.RemoveUnusedValues();
        return OnnxModelFile.ToBytes(graph.Model);
    }

    private static (List<NodeReport>, List<TensorReport>, List<string>) Finish(Result result, List<string> notes) => (result.Nodes, result.Tensors, notes);

    private static Result Attempt(GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatValues, Calibration calibration, IReadOnlySet<int>? keepFloat)
    {
        var plan = StaticPlanner.Plan(graph, options, floatValues, keepFloat);
        calibration.Progress?.Report(new QuantizationProgress("Planned", plan.Nodes.Count, plan.Nodes.Count + plan.FloatNodes.Count));
        foreach (var (tensor, range) in calibration.RangesFor(graph.Model, plan.TensorsToObserve().ToList())) plan.Ranges[tensor] = range;
        var context = new StaticEmitContext(graph, options, plan);
        var nodes = options.Format == QuantizationFormat.Qdq ? QdqEmitter.Emit(context) : QOperatorEmitter.Emit(context);
        nodes.AddRange(plan.FloatNodes);
        var tensors = plan.ActivationTensors.OrderBy(t => t, StringComparer.Ordinal).Select(t => Describe(context, t)).ToList();
        return new Result(plan, nodes, tensors);
    }

    private static TensorReport Describe(StaticEmitContext context, string tensor)
    {
        var plan = context.Plan;
        var source = plan.ParameterSource(tensor);
        var parameters = context.ActivationParameters(tensor);
        var how = plan.TableOutputs.Contains(source) ? "embedding table" : source == tensor ? "calibrated" : $"shared with {source}";
        var range = plan.Ranges.TryGetValue(source, out var r)
            ? r
            : new TensorRange(QuantMath.Dequantize(context.ActivationMin, parameters), QuantMath.Dequantize(context.ActivationMax, parameters));
        return new TensorReport(tensor, range.Min, range.Max, parameters.Scale, parameters.ZeroPoint, how);
    }

    private sealed record Result(StaticPlan Plan, List<NodeReport> Nodes, List<TensorReport> Tensors);

    /// <summary>Ranges observed so far; a plan asking for tensors not yet observed triggers one pass over the data for just those.</summary>
    private sealed class Calibration
    {
        private readonly CalibrationData _data;
        private readonly QuantizationOptions _options;
        private readonly CancellationToken _cancellationToken;
        private readonly Dictionary<string, TensorRange> _ranges = new(StringComparer.Ordinal);

        public Calibration(CalibrationData data, QuantizationOptions options, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
        {
            (_data, _options, Progress, _cancellationToken) = (data, options, progress, cancellationToken);
        }

        public IProgress<QuantizationProgress>? Progress { get; }

        public Dictionary<string, long> ElementCounts { get; } = new(StringComparer.Ordinal);

        public IEnumerable<KeyValuePair<string, TensorRange>> RangesFor(OnnxModel model, IReadOnlyCollection<string> tensors)
        {
            var missing = tensors.Where(t => !_ranges.ContainsKey(t)).ToList();
            if (missing.Count > 0)
            {
                foreach (var (tensor, range) in ActivationObserver.Observe(model, missing, _data, _options, Progress, ElementCounts, _cancellationToken))
                    _ranges[tensor] = range;
            }
            return tensors.Select(t => new KeyValuePair<string, TensorRange>(t, _ranges[t]));
        }

        public IReadOnlyList<Microsoft.ML.OnnxRuntime.NamedOnnxValue> FirstSample(OnnxModel model)
        {
            var inputNames = model.Graph.Input.Select(i => i.Name).Where(n => model.Graph.Initializer.All(t => t.Name != n)).ToList();
            return _data.Read(inputNames).First();
        }
    }
}
