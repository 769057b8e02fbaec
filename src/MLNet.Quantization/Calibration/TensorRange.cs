namespace MLNet.Quantization.Calibration;

/// <summary>The real range an activation tensor is quantized over.</summary>
/// <param name="Min">Lower end.</param>
/// <param name="Max">Upper end.</param>
public readonly record struct TensorRange(float Min, float Max)
{
    /// <inheritdoc />
    public override string ToString() => $"[{Min:G5}, {Max:G5}]";
}
