namespace MLNet.Quantization;

/// <summary>One model the tuner judges, handed to <see cref="TuningOptions.Metric"/>.</summary>
public sealed class TuningCandidate
{
    internal TuningCandidate(byte[] modelBytes, string description)
    {
        ModelBytes = modelBytes;
        Description = description;
    }

    /// <summary>The candidate model, serialized (the float model itself for the reference score).</summary>
    public byte[] ModelBytes { get; }

    /// <summary>What this candidate is, e.g. "float model" or "14 nodes float, Percentile".</summary>
    public string Description { get; }
}
