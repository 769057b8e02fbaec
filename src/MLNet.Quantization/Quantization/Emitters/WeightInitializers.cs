namespace MLNet.Quantization.Emitters;

/// <summary>The initializer names holding one quantized weight: integers, scale(s) and zero point(s).</summary>
/// <param name="Data">The quantized integers.</param>
/// <param name="Scale">Scale: a scalar, or one per channel.</param>
/// <param name="ZeroPoint">Zero point, with the same shape as the scale.</param>
/// <param name="Tensor">
/// The quantized tensor's shape, type, axis and parameters. Its <see cref="QuantizedTensor.Data"/> is empty: the
/// integers live in the graph (or on disk, for a streamed model), not twice in memory.
/// </param>
internal sealed record WeightInitializers(string Data, string Scale, string ZeroPoint, QuantizedTensor Tensor);
