namespace MLNet.Quantization;

/// <summary>How an activation's observed values are reduced to the range that 8 bits must cover.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen (optionally a moving average over batches).</summary>
    MinMax,

    /// <summary>A percentile of the observed values (default 99.999), ignoring rare outliers.</summary>
    Percentile,

    /// <summary>The clipping threshold that minimizes the KL divergence between the float and quantized histograms.</summary>
    Entropy,
}
