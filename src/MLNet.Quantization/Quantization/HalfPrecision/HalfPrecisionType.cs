namespace MLNet.Quantization;

/// <summary>The 16-bit floating-point type of <see cref="QuantizationMode.Float16"/>.</summary>
public enum HalfPrecisionType
{
    /// <summary>IEEE 754 half precision: 11 significant bits, values up to 65,504. Weights and, where ONNX Runtime has kernels, compute.</summary>
    Float16 = 0,

    /// <summary>
    /// bfloat16: float32's range with 8 significant bits. Weights only: ONNX Runtime's CPU provider has no bfloat16
    /// arithmetic kernels, so each weight is cast back to float32 (once, when the session loads). Needs opset 13 or later.
    /// </summary>
    BFloat16 = 1,
}
