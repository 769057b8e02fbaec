namespace MLNet.Quantization;

/// <summary>What a weight-only code stands for.</summary>
public enum WeightOnlyFormat
{
    /// <summary>
    /// Integer codes with a scale (and zero point) per block, for <c>com.microsoft.MatMulNBits</c>: 2, 4 or 8 bits, RTN,
    /// HQQ or GPTQ.
    /// </summary>
    Integer = 0,

    /// <summary>
    /// 4-bit NormalFloat (QLoRA): 16 quantiles of a normal distribution, scaled per block by its absolute maximum, for
    /// <c>com.microsoft.MatMulBnb4</c>. Suits weights that are roughly normally distributed.
    /// </summary>
    Nf4 = 1,

    /// <summary>4-bit floating point (bitsandbytes' FP4: sign, 2-bit exponent, 1-bit mantissa) per block absmax, for MatMulBnb4.</summary>
    Fp4 = 2,
}
