namespace MLNet.Quantization;

/// <summary>Thrown when no plan the tuner tried met the target; carries every trial and the best one.</summary>
public sealed class TuningTargetException : InvalidOperationException
{
    internal TuningTargetException(string message, IReadOnlyList<TuningTrial> trials, TuningTrial best, QuantizationResult bestResult)
        : base(message)
    {
        Trials = trials;
        Best = best;
        BestResult = bestResult;
    }

    /// <summary>Every trial, in order.</summary>
    public IReadOnlyList<TuningTrial> Trials { get; }

    /// <summary>The trial closest to the target.</summary>
    public TuningTrial Best { get; }

    /// <summary>The best trial's model, for callers that write it anyway (<c>--write-best</c>).</summary>
    public QuantizationResult BestResult { get; }
}
