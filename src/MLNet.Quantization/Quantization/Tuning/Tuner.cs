using System.Diagnostics;
using MLNet.Quantization.Operators;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Tuning;

/// <summary>
/// The closed loop: judge the full plan; try the other calibration methods on it; then measure each product's
/// sensitivity (the error at the outputs when only that node is quantized) and bisect over how many of the most
/// sensitive ones go back to float, keeping the plan with the most nodes quantized that meets the target.
/// Every trial is a new plan and is recorded.
/// </summary>
internal sealed class Tuner
{
    private readonly CandidateFactory _factory;
    private readonly TuningOptions _tuning;
    private readonly List<TuningTrial> _trials;
    private readonly CandidateEvaluator _evaluator;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private (Candidate Candidate, TuningTrial Trial)? _best;

    public Tuner(CandidateFactory factory, TuningOptions tuning, List<TuningTrial> trials)
    {
        tuning.Validate();
        (_factory, _tuning, _trials) = (factory, tuning, trials);
        _evaluator = new CandidateEvaluator(factory.FloatBytes, tuning, factory.InputNames);
    }

    /// <summary>Per-node sensitivity measured during the search: node name → error at the outputs when only it is quantized.</summary>
    public Dictionary<string, double> Sensitivity { get; } = new(StringComparer.Ordinal);

    /// <summary>The trial closest to the target so far (sensitivity trials excluded).</summary>
    public TuningTrial? BestTrial => _best?.Trial;

    /// <summary>The chosen candidate, and a message when no trial met the target (the best trial is returned then).</summary>
    public (Candidate Chosen, string? Missed) Search()
    {
        var first = Judge(_factory.Build(OptionsMethod, new Dictionary<int, string>()), "full plan");
        if (first.Trial.MeetsTarget) return (first.Candidate, null);

        var bestMethod = (first.Candidate.Method, Error: _evaluator.Error(first.Trial.Agreement, first.Trial.Cosine, first.Trial.Metric));
        foreach (var other in Enum.GetValues<CalibrationMethod>().Where(m => m != OptionsMethod))
        {
            if (OutOfBudget()) break;
            if (!_factory.HasData && _factory.Calibration.RangesFor(other).Count == 0) continue;
            var judged = Judge(_factory.Build(other, new Dictionary<int, string>()), $"calibration method {other}");
            if (judged.Trial.MeetsTarget) return (judged.Candidate, null);
            double error = _evaluator.Error(judged.Trial.Agreement, judged.Trial.Cosine, judged.Trial.Metric);
            if (error < bestMethod.Error) bestMethod = (other, error);
        }
        var method = bestMethod.Method;

        var products = first.Candidate.Plan.Nodes.Values.Where(n => n.Kind is StaticOperatorKind.Product or StaticOperatorKind.TableLookup).OrderBy(n => n.GraphIndex).ToList();
        var allCandidates = first.Candidate.Plan.Nodes.Values.Select(n => n.GraphIndex).ToHashSet();
        var ranked = new List<(int Index, double Error)>();
        foreach (var product in products)
        {
            if (OutOfBudget()) { ranked.Add((product.GraphIndex, double.MaxValue)); continue; }
            var keep = allCandidates.Where(i => i != product.GraphIndex).ToDictionary(i => i, _ => StaticPlanner.SensitivityReason);
            var judged = Judge(_factory.Build(method, keep), $"sensitivity of {product.DisplayName}");
            double error = _evaluator.Error(judged.Trial.Agreement, judged.Trial.Cosine, judged.Trial.Metric);
            Sensitivity[product.DisplayName] = error;
            ranked.Add((product.GraphIndex, error));
        }
        var order = ranked.OrderByDescending(r => r.Error).Select(r => r.Index).ToList();
        int low = 0, high = order.Count + 1;
        Candidate? chosen = null;
        while (low + 1 < high && !OutOfBudget())
        {
            int mid = (low + high) / 2;
            var judged = Judge(_factory.Build(method, order.Take(mid).ToDictionary(i => i, _ => StaticPlanner.TuningReason)), $"fallback: the {mid} most sensitive products and tables float");
            if (judged.Trial.MeetsTarget) (high, chosen) = (mid, judged.Candidate);
            else low = mid;
        }
        if (chosen is not null) return (chosen, null);
        var best = _best!.Value;
        return (best.Candidate, $"No plan met the target within {_trials.Count} trials ({_clock.Elapsed.TotalSeconds:F0} s). Best: trial {best.Trial.Number} ({best.Trial.Purpose}): {Describe(best.Trial)}.");
    }

    /// <summary>One line for the report's notes.</summary>
    public string Summary(Candidate chosen, bool met)
    {
        var trial = _trials.LastOrDefault(t => t.QuantizedNodes == chosen.Plan.Nodes.Count && t.CalibrationMethod == chosen.Method && t.MeetsTarget) ?? _best!.Value.Trial;
        return $"tuning: {(met ? "target met" : "target NOT met")} by trial {trial.Number} of {_trials.Count} ({trial.Purpose}, {trial.CalibrationMethod}): {Describe(trial)} on {_evaluator.SampleCount} evaluation samples; {_clock.Elapsed.TotalSeconds:F1} s.";
    }

    private CalibrationMethod OptionsMethod => _factory.Options.CalibrationMethod;

    private string Describe(TuningTrial t) =>
        $"{t.QuantizedNodes} nodes quantized, agreement {t.Agreement:P2}, cosine {t.Cosine:F6}{(t.Metric is { } m ? $", metric {m:G5} (float {_evaluator.FloatMetric:G5})" : "")}";

    private bool OutOfBudget() => _trials.Count >= _tuning.MaxTrials || _clock.Elapsed >= _tuning.TimeBudget;

    private (Candidate Candidate, TuningTrial Trial) Judge(Candidate candidate, string purpose)
    {
        var (agreement, cosine, metric, meets) = _evaluator.Judge(candidate.Bytes, purpose);
        var trial = new TuningTrial(_trials.Count + 1, purpose, candidate.Method, candidate.Plan.Nodes.Count, agreement, cosine, metric, meets, candidate.Bytes.Length, null);
        _trials.Add(trial);
        _factory.Progress?.Report(new QuantizationProgress($"Tuning: trial {trial.Number} ({purpose}): {Describe(trial)}{(meets ? " - meets the target" : "")}", _trials.Count, _tuning.MaxTrials));
        bool sensitivityOnly = purpose.StartsWith("sensitivity", StringComparison.Ordinal);
        if (!sensitivityOnly && (_best is null || _evaluator.Error(agreement, cosine, metric) < _evaluator.Error(_best.Value.Trial.Agreement, _best.Value.Trial.Cosine, _best.Value.Trial.Metric)))
            _best = (candidate, trial);
        return (candidate, trial);
    }
}
