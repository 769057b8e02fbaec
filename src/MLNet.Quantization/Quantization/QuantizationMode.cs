namespace MLNet.Quantization;

/// <summary>How activations are quantized.</summary>
public enum QuantizationMode
{
    /// <summary>Weights are stored as 8-bit integers; activations are quantized at run time from their observed range.</summary>
    Dynamic = 0,

    /// <summary>
    /// Weights and activations are 8-bit; activation ranges are fixed ahead of time by calibration on representative
    /// data, so the runtime can run integer kernels end to end.
    /// </summary>
    Static = 1,

    /// <summary>
    /// Only MatMul/Gemm weights are quantized, block-wise to 2, 4 or 8 bits (<see cref="QuantizationOptions.WeightOnly"/>),
    /// for ONNX Runtime's MatMulNBits; activations stay float. Needs no data. Meant for large language models, where
    /// weight memory and bandwidth dominate.
    /// </summary>
    WeightOnly = 2,

    /// <summary>
    /// float32 weights are stored as float16 or bfloat16 (<see cref="QuantizationOptions.Float16"/>), half the size;
    /// operators with a float16 kernel compute in float16, the rest in float32 behind Casts. Needs no data.
    /// </summary>
    Float16 = 3,
}
