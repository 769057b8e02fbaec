namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// Scale and integer zero point of one block: a weight w is stored as q = clamp(round(w / Scale) + ZeroPoint, 0,
/// 2^bits − 1) and read back as (q − ZeroPoint) · Scale.
/// </summary>
/// <param name="Scale">Step between codes (negative in symmetric blocks whose largest magnitude is negative).</param>
/// <param name="ZeroPoint">The code that stands for 0.</param>
internal readonly record struct BlockParameters(float Scale, int ZeroPoint)
{
    /// <summary>The code for <paramref name="value"/>.</summary>
    public int Code(float value, int maxCode) => Math.Clamp((int)MathF.Round(value / Scale) + ZeroPoint, 0, maxCode);

    /// <summary>The value a code stands for.</summary>
    public float Value(int code) => (code - ZeroPoint) * Scale;

    /// <summary>Sum of squared reconstruction errors over <paramref name="values"/>.</summary>
    public double SquaredError(ReadOnlySpan<float> values, int maxCode)
    {
        double sum = 0;
        foreach (var w in values)
        {
            double e = w - Value(Code(w, maxCode));
            sum += e * e;
        }
        return sum;
    }

    /// <summary>
    /// Round-to-nearest parameters. Asymmetric: the block's minimum and maximum, widened to hold 0, span all codes.
    /// Symmetric: the zero point is the middle code and the value of largest magnitude maps exactly onto the lowest
    /// code (so the scale takes that value's sign), which uses all 2^bits codes.
    /// </summary>
    public static BlockParameters RoundToNearest(ReadOnlySpan<float> values, int bits, bool symmetric)
    {
        int maxCode = (1 << bits) - 1;
        if (symmetric)
        {
            float extreme = 0;
            foreach (var w in values) if (MathF.Abs(w) > MathF.Abs(extreme)) extreme = w;
            int middle = 1 << (bits - 1);
            return new BlockParameters(extreme == 0 ? 1f : extreme / -middle, middle);
        }
        float min = 0, max = 0;
        foreach (var w in values)
        {
            if (w < min) min = w;
            if (w > max) max = w;
        }
        if (max == min) return new BlockParameters(1f, 0);
        float scale = (max - min) / maxCode;
        return new BlockParameters(scale, Math.Clamp((int)MathF.Round(-min / scale), 0, maxCode));
    }
}
