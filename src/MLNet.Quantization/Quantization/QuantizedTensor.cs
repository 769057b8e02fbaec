namespace MLNet.Quantization;

/// <summary>A weight tensor after quantization: its integers and the parameters of each channel.</summary>
/// <param name="Data">The quantized values, one byte each (int8 stored as its two's-complement byte).</param>
/// <param name="Dims">The shape of <see cref="Data"/>.</param>
/// <param name="Type">Int8 or UInt8.</param>
/// <param name="Parameters">One entry per channel along <see cref="Axis"/>, or a single entry for per-tensor.</param>
/// <param name="Axis">The channel axis, or null for per-tensor quantization.</param>
internal sealed record QuantizedTensor(byte[] Data, long[] Dims, QuantizedType Type, QuantParams[] Parameters, int? Axis);
