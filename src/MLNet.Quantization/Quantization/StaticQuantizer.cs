using MLNet.Quantization.Onnx;
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
        if (UnappliedOverrides(options, chosen.Plan) is { Count: > 0 } unapplied)
            notes.Add($"tensor overrides not applied, because this plan does not quantize these tensors as activations with parameters of their own: {string.Join(", ", unapplied)} (their node stayed float, a Relu/Clip was folded into the node before it - override the Relu/Clip's output instead - or, for a range, the tensor is an embedding lookup's output).");
        graph.Model.Proto.Graph = chosen.Graph.Model.Proto.Graph;
        graph.Model.Proto.OpsetImport.Clear();
        graph.Model.Proto.OpsetImport.AddRange(chosen.Graph.Model.Proto.OpsetImport);
        graph.Reindex();
        return new StaticOutcome(chosen.Nodes, chosen.Tensors, notes, trials, missed, best, factory.Calibration);
    }

    private static List<string> UnappliedOverrides(QuantizationOptions options, StaticPlan plan) =>
        options.Overrides?.Tensors
            .Where(t => t.Value.SetsActivation)
            .Where(t => !plan.ActivationTensors.Contains(t.Key) || plan.ParameterSource(t.Key) != t.Key || (t.Value.Min is not null && plan.TableOutputs.Contains(t.Key)))
            .Select(t => t.Key).OrderBy(t => t, StringComparer.Ordinal).ToList()
        ?? new List<string>();

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
