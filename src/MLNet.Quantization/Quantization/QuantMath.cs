namespace MLNet.Quantization;

/// <summary>A scale and zero point: real = (q - ZeroPoint) * Scale.</summary>
/// <param name="Scale">The step between two adjacent integer values.</param>
/// <param name="ZeroPoint">The integer that represents real 0.</param>
internal readonly record struct QuantParams(float Scale, int ZeroPoint);

/// <summary>Scale and zero-point math, rounding and saturation, as ONNX Runtime defines them.</summary>
internal static class QuantMath
{
    /// <summary>The smallest normal float; scales below it are treated as a degenerate (all-zero) range.</summary>
    public const float SmallestNormalFloat = 1.17549435E-38f;

    /// <summary>The integer range used for a type: [-127, 127] for symmetric int8 (so that 0 is exact and ranges
    /// are balanced), [-128, 127] otherwise, [0, 255] for uint8; 7-bit ranges with <paramref name="reduceRange"/>.</summary>
    /// <param name="type">The quantized type.</param>
    /// <param name="symmetric">Whether the range is symmetric around zero.</param>
    /// <param name="reduceRange">Whether to use 7 bits.</param>
    public static (int Min, int Max) IntegerRange(QuantizedType type, bool symmetric, bool reduceRange) => type switch
    {
        QuantizedType.Int8 when reduceRange => (-64, 64),
        QuantizedType.Int8 when symmetric => (-127, 127),
        QuantizedType.Int8 => (-128, 127),
        _ when reduceRange => (0, 127),
        _ => (0, 255),
    };

    /// <summary>
    /// Scale and zero point for values in [<paramref name="rmin"/>, <paramref name="rmax"/>]. The range is first
    /// widened to include 0; symmetric parameters use ±max(|rmin|, |rmax|). A degenerate range gives scale 1, zero point 0.
    /// </summary>
    /// <param name="rmin">Smallest observed value.</param>
    /// <param name="rmax">Largest observed value.</param>
    /// <param name="qmin">Smallest integer.</param>
    /// <param name="qmax">Largest integer.</param>
    /// <param name="symmetric">Whether to center the range on zero.</param>
    public static QuantParams Compute(float rmin, float rmax, int qmin, int qmax, bool symmetric)
    {
        if (float.IsNaN(rmin) || float.IsNaN(rmax) || float.IsInfinity(rmin) || float.IsInfinity(rmax))
            throw new ArgumentOutOfRangeException(nameof(rmin), $"Cannot quantize the range [{rmin}, {rmax}]: it holds NaN or infinity.");
        rmin = MathF.Min(rmin, 0f);
        rmax = MathF.Max(rmax, 0f);
        float scale;
        int zeroPoint;
        if (symmetric)
        {
            float absMax = MathF.Max(MathF.Abs(rmin), MathF.Abs(rmax));
            scale = 2f * absMax / (qmax - qmin);
            zeroPoint = (int)Math.Floor((qmax + qmin + 1) / 2.0);
        }
        else
        {
            scale = (rmax - rmin) / (qmax - qmin);
            zeroPoint = scale > 0 ? (int)MathF.Round(qmin - rmin / scale, MidpointRounding.ToEven) : 0;
        }
        if (scale < SmallestNormalFloat || !float.IsFinite(scale)) return new QuantParams(1f, 0);
        return new QuantParams(scale, Math.Clamp(zeroPoint, qmin, qmax));
    }

    /// <summary>q = clamp(round_half_to_even(x / scale) + zeroPoint, qmin, qmax).</summary>
    /// <param name="value">The real value.</param>
    /// <param name="parameters">Scale and zero point.</param>
    /// <param name="qmin">Smallest integer.</param>
    /// <param name="qmax">Largest integer.</param>
    public static int Quantize(float value, QuantParams parameters, int qmin, int qmax)
    {
        float scaled = MathF.Round(value / parameters.Scale, MidpointRounding.ToEven) + parameters.ZeroPoint;
        return (int)Math.Clamp(scaled, qmin, qmax);
    }

    /// <summary>The real value an integer stands for: (q - zeroPoint) * scale.</summary>
    /// <param name="quantized">The integer.</param>
    /// <param name="parameters">Scale and zero point.</param>
    public static float Dequantize(int quantized, QuantParams parameters) => (quantized - parameters.ZeroPoint) * parameters.Scale;
}
