namespace MLNet.Quantization.Calibration;

/// <summary>
/// A histogram of fixed size whose range grows with the data: when a value falls outside, bin width doubles and
/// pairs of bins merge exactly (extending right, or left by shifting the old bins into the upper half). Memory is
/// constant however many values are added. Also tracks the exact min and max.
/// </summary>
internal sealed class StreamingHistogram
{
    private readonly long[] _counts;
    private double _low, _width;

    /// <summary>Creates an empty histogram with <paramref name="binCount"/> bins (even, at least 2).</summary>
    public StreamingHistogram(int binCount = 2048)
    {
        if (binCount < 2 || binCount % 2 != 0) throw new ArgumentOutOfRangeException(nameof(binCount), binCount, "Bin count must be even and at least 2.");
        _counts = new long[binCount];
    }

    /// <summary>Bin counts.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Lower edge of bin 0.</summary>
    public double Low => _low;

    /// <summary>Width of one bin.</summary>
    public double BinWidth => _width;

    /// <summary>Values added.</summary>
    public long Total { get; private set; }

    /// <summary>Smallest value added.</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>Largest value added.</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>Adds values (of |x| when <paramref name="absolute"/>; such a histogram starts at 0).</summary>
    public void Add(ReadOnlySpan<float> values, bool absolute)
    {
        if (values.IsEmpty) return;
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var raw in values)
        {
            float v = absolute ? MathF.Abs(raw) : raw;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (Total == 0)
        {
            _low = absolute ? 0f : lo;
            _width = Math.Max((hi - (double)lo) / _counts.Length, 1e-30);
        }
        while (lo < _low) ExtendLeft();
        while (hi >= _low + _width * _counts.Length) ExtendRight();
        Min = MathF.Min(Min, lo);
        Max = MathF.Max(Max, hi);

        int last = _counts.Length - 1;
        double inverse = 1.0 / _width;
        foreach (var raw in values)
        {
            float v = absolute ? MathF.Abs(raw) : raw;
            int bin = (int)((v - _low) * inverse);
            _counts[bin > last ? last : bin < 0 ? 0 : bin]++;
        }
        Total += values.Length;
    }

    /// <summary>The value below which <paramref name="fraction"/> of all values lie (linear within a bin).</summary>
    public double Quantile(double fraction)
    {
        if (Total == 0) throw new InvalidOperationException("The histogram is empty.");
        double target = fraction * Total;
        long cumulative = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            if (cumulative + _counts[i] >= target && _counts[i] > 0)
            {
                double within = (target - cumulative) / _counts[i];
                return Math.Clamp(_low + (i + within) * _width, Min, Max);
            }
            cumulative += _counts[i];
        }
        return Max;
    }

    private void ExtendRight()
    {
        int half = _counts.Length / 2;
        for (int j = 0; j < half; j++) _counts[j] = _counts[2 * j] + _counts[2 * j + 1];
        Array.Clear(_counts, half, half);
        _width *= 2;
    }

    private void ExtendLeft()
    {
        int n = _counts.Length, half = n / 2;
        var merged = new long[half];
        for (int i = 0; i < n; i++) merged[i / 2] += _counts[i];
        Array.Clear(_counts);
        Array.Copy(merged, 0, _counts, half, half);
        _low -= n * _width;
        _width *= 2;
    }
}
