namespace MLNet.Quantization.Emitters;

/// <summary>The initializer names holding one quantized weight: integers, scale(s) and zero point(s).</summary>
/// <param name="Data">The quantized integers.</param>
/// <param name="Scale">Scale: a scalar, or one per channel.</param>
/// <param name="ZeroPoint">Zero point, with the same shape as the scale.</param>
/// <param name="Tensor">The quantized tensor itself.</param>
internal sealed record WeightInitializers(string Data, string Scale, string ZeroPoint, QuantizedTensor Tensor);
