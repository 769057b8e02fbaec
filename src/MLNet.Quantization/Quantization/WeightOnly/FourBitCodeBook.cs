namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// The 16 values of the bitsandbytes 4-bit formats that <c>com.microsoft.MatMulBnb4</c> reads, on the scale [−1, 1]
/// (each block is multiplied by its absolute maximum), indexed by code.
/// </summary>
internal static class FourBitCodeBook
{
    /// <summary>
    /// NF4 (QLoRA, Dettmers et al. 2023): quantiles of N(0, 1) normalised to [−1, 1], asymmetric so that 0 is exact —
    /// 8 positive values at probabilities spaced evenly from <c>δ</c> down to ½ (exclusive), 7 negative ones at 7 even
    /// steps from <c>δ</c> down to ½, and 0, where δ = ½((1 − 1/30) + (1 − 1/32)) places the extreme quantiles halfway
    /// between those of 15 and 16 equal-probability bins. Sorted ascending, so code 7 stands for 0.
    /// </summary>
    public static readonly float[] Nf4 = NormalFloat();

    /// <summary>
    /// FP4 as bitsandbytes defines it: sign bit, then a 2-bit exponent e and a 1-bit mantissa m, standing for
    /// 2^(4−e)·(1 + m/2) when e &gt; 0 and m/16 when e = 0, divided by the largest value (12).
    /// </summary>
    public static readonly float[] Fp4 = FloatingPoint();

    /// <summary>The code whose value is nearest to <paramref name="scaled"/> (a weight divided by its block's absmax).</summary>
    public static int Nearest(float[] book, float scaled)
    {
        int best = 0;
        float bestDistance = float.PositiveInfinity;
        for (int code = 0; code < book.Length; code++)
        {
            float distance = MathF.Abs(book[code] - scaled);
            if (distance < bestDistance) (best, bestDistance) = (code, distance);
        }
        return best;
    }

    private static float[] NormalFloat()
    {
        double offset = 0.5 * ((1 - 1.0 / 30) + (1 - 1.0 / 32));
        var values = new List<double> { 0 };
        for (int i = 0; i < 8; i++) values.Add(StandardNormal.Quantile(offset + (0.5 - offset) * i / 8));
        for (int i = 0; i < 7; i++) values.Add(-StandardNormal.Quantile(offset + (0.5 - offset) * i / 7));
        values.Sort();
        double max = values[^1];
        return values.Select(v => (float)(v / max)).ToArray();
    }

    private static float[] FloatingPoint()
    {
        var book = new float[16];
        for (int code = 0; code < 8; code++)
        {
            int exponent = code >> 1, mantissa = code & 1;
            double value = exponent == 0 ? mantissa / 16.0 : Math.Pow(2, 4 - exponent) * (1 + mantissa / 2.0);
            book[code] = (float)(value / 12);
            book[code + 8] = -book[code];
        }
        return book;
    }
}
