namespace MLNet.Quantization;

/// <summary>
/// Settings of <see cref="QuantizationMode.Float16"/>: float32 weights are stored in 16 bits, and the operators listed in
/// <see cref="HalfComputeOpTypes"/> compute in float16, with Casts at the borders. Graph inputs and outputs keep float32.
/// </summary>
public sealed record Float16Options
{
    /// <summary>
    /// The operators with a float16 kernel in ONNX Runtime's CPU provider on x86-64 (1.31): layer normalizations and a
    /// few element-wise ones. MatMul, Gemm, Conv, Add, Mul and the activations have none and stay float32 there; a
    /// CUDA deployment can list them in <see cref="HalfComputeOpTypes"/>.
    /// </summary>
    public static IReadOnlyList<string> CpuHalfComputeOpTypes { get; } = new[]
    {
        "LayerNormalization", "SimplifiedLayerNormalization", "RMSNormalization", "SkipLayerNormalization",
        "SkipSimplifiedLayerNormalization", "Clip", "Max", "Min", "Round", "Sign",
    };

    /// <summary>The 16-bit type. Default: <see cref="HalfPrecisionType.Float16"/>.</summary>
    public HalfPrecisionType Type { get; init; } = HalfPrecisionType.Float16;

    /// <summary>
    /// Float16 only: operators of <see cref="HalfComputeOpTypes"/> compute in half precision (data movement between
    /// them too). False: only the weights are stored in 16 bits and everything computes in float32 — the same speed as
    /// the float model on CPU. Default: true.
    /// </summary>
    public bool HalfCompute { get; init; } = true;

    /// <summary>The operator types that compute in float16 when <see cref="HalfCompute"/> is on. Default: <see cref="CpuHalfComputeOpTypes"/>.</summary>
    public IReadOnlyList<string> HalfComputeOpTypes { get; init; } = CpuHalfComputeOpTypes;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for settings that cannot work.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Type)) throw new ArgumentOutOfRangeException(nameof(Type), Type, "The type must be Float16 or BFloat16.");
        if (HalfComputeOpTypes is null) throw new ArgumentOutOfRangeException(nameof(HalfComputeOpTypes), "HalfComputeOpTypes must not be null; leave it unset for ONNX Runtime's CPU kernels.");
    }
}
