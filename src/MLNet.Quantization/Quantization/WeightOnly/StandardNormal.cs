namespace MLNet.Quantization.WeightOnly;

/// <summary>The standard normal distribution's cumulative distribution function and its inverse, in double precision.</summary>
internal static class StandardNormal
{
    /// <summary>Φ(x) = ½ + ∫₀ˣ φ(t) dt, integrated with Simpson's rule (error far below float precision for |x| ≤ 8).</summary>
    public static double Cdf(double x)
    {
        if (x < 0) return 1 - Cdf(-x);
        const int intervals = 4096;
        double h = x / intervals, sum = Density(0) + Density(x);
        for (int i = 1; i < intervals; i++) sum += (i % 2 == 1 ? 4 : 2) * Density(i * h);
        return 0.5 + sum * h / 3;
    }

    /// <summary>φ(x), the density.</summary>
    public static double Density(double x) => Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    /// <summary>Φ⁻¹(p) for 0 &lt; p &lt; 1, by Newton's method on <see cref="Cdf"/>.</summary>
    public static double Quantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "A probability strictly between 0 and 1 is needed.");
        double x = 0;
        for (int iteration = 0; iteration < 100; iteration++)
        {
            double step = (Cdf(x) - p) / Density(x);
            x -= step;
            if (Math.Abs(step) < 1e-13) break;
        }
        return x;
    }
}
