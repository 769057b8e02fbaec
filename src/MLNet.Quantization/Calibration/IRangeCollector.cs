namespace MLNet.Quantization.Calibration;

/// <summary>Folds batches of one tensor's values into a summary of constant size, then yields a range.</summary>
internal interface IRangeCollector
{
    /// <summary>Adds one batch of values; the span is not kept.</summary>
    void Add(ReadOnlySpan<float> values);

    /// <summary>Whether any value has been added.</summary>
    bool HasData { get; }

    /// <summary>The range chosen from everything added so far.</summary>
    TensorRange ComputeRange();
}
