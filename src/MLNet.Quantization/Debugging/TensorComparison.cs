namespace MLNet.Quantization;

/// <summary>How far one intermediate tensor of the quantized model is from the float model's, over the samples compared.</summary>
/// <param name="FloatTensor">The tensor's name in the float model.</param>
/// <param name="QuantizedTensor">The float value the quantized model carries for it (a DequantizeLinear output, or the same name).</param>
/// <param name="Producer">The operator type that produces it in the float model.</param>
/// <param name="SqnrDb">Signal-to-quantization-noise ratio in dB: 10·log10(Σf² / Σ(f−q)²); higher is better, ∞ when equal.</param>
/// <param name="Cosine">Cosine similarity of the float and quantized values.</param>
/// <param name="MaxAbsError">Largest absolute difference.</param>
/// <param name="Elements">Elements compared per sample (the largest, when samples differ in shape).</param>
public sealed record TensorComparison(string FloatTensor, string QuantizedTensor, string Producer, double SqnrDb, double Cosine, double MaxAbsError, long Elements);
