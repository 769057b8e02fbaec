namespace MLNet.Quantization;

/// <summary>
/// Closed-loop tuning for static mode: search for the plan with the most nodes quantized whose accuracy on
/// <see cref="EvaluationData"/> (kept apart from the calibration data) meets a target. Set at least one target:
/// <see cref="MinAgreement"/>, <see cref="MinCosine"/>, or <see cref="Metric"/> with <see cref="MaxMetricDrop"/>.
/// </summary>
public sealed record TuningOptions
{
    /// <summary>Inputs the candidates are judged on; must not be the calibration data.</summary>
    public CalibrationData? EvaluationData { get; init; }

    /// <summary>
    /// ML.NET: the evaluation rows as an <c>IDataView</c> with the model's input columns (used when
    /// <see cref="EvaluationData"/> is not set); also the data <see cref="TransformerMetric"/> candidates are fitted on.
    /// </summary>
    public Microsoft.ML.IDataView? EvaluationDataView { get; init; }

    /// <summary>
    /// ML.NET: a metric over a candidate as a fitted transformer (ML.NET's own OnnxTransformer with the candidate's
    /// bytes and the estimator's columns), e.g. <c>t =&gt; ml.BinaryClassification.Evaluate(head.Transform(t.Transform(validation))).Accuracy</c>;
    /// higher is better, judged with <see cref="MaxMetricDrop"/> against the float model's score.
    /// </summary>
    public Func<Microsoft.ML.ITransformer, double>? TransformerMetric { get; init; }

    /// <summary>At most this many evaluation samples are read (and kept in memory). Default: 100.</summary>
    public int MaxEvaluationSamples { get; init; } = 100;

    /// <summary>Target: the share of output positions whose argmax over the last axis equals the float model's, in (0, 1].</summary>
    public double? MinAgreement { get; init; }

    /// <summary>Target: cosine similarity of all float outputs with the float model's, in (0, 1].</summary>
    public double? MinCosine { get; init; }

    /// <summary>
    /// Target: any metric the caller computes on a candidate (higher is better) — in ML.NET, the user's own
    /// <c>Evaluate</c> over the whole pipeline with the candidate's bytes. The float model is scored the same way once.
    /// </summary>
    public Func<TuningCandidate, double>? Metric { get; init; }

    /// <summary>With <see cref="Metric"/>: the largest drop from the float model's metric that meets the target. Default: 0.005.</summary>
    public double MaxMetricDrop { get; init; } = 0.005;

    /// <summary>At most this many candidates are built and judged (calibration methods, per-node sensitivity, fallback search). Default: 100.</summary>
    public int MaxTrials { get; init; } = 100;

    /// <summary>The search stops starting new trials after this long. Default: 10 minutes.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentNullException"/> when the options cannot work.</summary>
    public void Validate()
    {
        if (EvaluationData is null && EvaluationDataView is null) throw new ArgumentNullException(nameof(EvaluationData), "Tuning needs evaluation data, kept apart from the calibration data.");
        if (MinAgreement is null && MinCosine is null && Metric is null && TransformerMetric is null)
            throw new ArgumentOutOfRangeException(nameof(MinAgreement), "Tuning needs a target: MinAgreement, MinCosine, or Metric with MaxMetricDrop.");
        if (MinAgreement is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(MinAgreement), MinAgreement, "Must be in (0, 1], e.g. 0.99.");
        if (MinCosine is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(MinCosine), MinCosine, "Must be in (0, 1], e.g. 0.995.");
        if (MaxMetricDrop < 0) throw new ArgumentOutOfRangeException(nameof(MaxMetricDrop), MaxMetricDrop, "Must be zero or more.");
        if (MaxTrials < 1) throw new ArgumentOutOfRangeException(nameof(MaxTrials), MaxTrials, "At least one trial is needed.");
        if (MaxEvaluationSamples < 1) throw new ArgumentOutOfRangeException(nameof(MaxEvaluationSamples), MaxEvaluationSamples, "At least one evaluation sample is needed.");
        if (TimeBudget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeBudget), TimeBudget, "Must be positive.");
    }
}
