namespace MLNet.Quantization;

/// <summary>How one activation tensor was quantized in static mode.</summary>
/// <param name="Tensor">The tensor's name in the float model.</param>
/// <param name="Min">Lower end of the range (calibrated, or the source's when shared).</param>
/// <param name="Max">Upper end of the range.</param>
/// <param name="Scale">The quantization scale.</param>
/// <param name="ZeroPoint">The zero point.</param>
/// <param name="Source">How the range was obtained: "calibrated", "shared with X" or "embedding table".</param>
public sealed record TensorReport(string Tensor, float Min, float Max, float Scale, int ZeroPoint, string Source);
