namespace MLNet.Quantization.Calibration;

/// <summary>
/// Range from the KL-divergence search used by TensorRT-style calibration: a streaming histogram of |x|; for each
/// candidate threshold, the clipped reference distribution (outliers folded into the last bin) is compared with its
/// coarsening to <c>quantizedBins</c> levels; the threshold with the least divergence wins. The bin holding zero is
/// left out of the comparison: 0 is exactly representable, and the spike of zeros after a Relu would otherwise
/// dominate the divergence and pull the threshold far too low. The range is ±threshold, clipped to the observed
/// min and max.
/// </summary>
internal sealed class EntropyCollector : IRangeCollector
{
    private readonly StreamingHistogram _histogram;
    private readonly int _quantizedBins;
    private float _min = float.PositiveInfinity, _max = float.NegativeInfinity;

    /// <summary>Creates a collector; <paramref name="quantizedBins"/> levels are compared against <paramref name="binCount"/> bins.</summary>
    public EntropyCollector(int binCount = 2048, int quantizedBins = 128)
    {
        if (quantizedBins < 2 || quantizedBins > binCount) throw new ArgumentOutOfRangeException(nameof(quantizedBins), quantizedBins, "Must be between 2 and the bin count.");
        _quantizedBins = quantizedBins;
        _histogram = new StreamingHistogram(binCount);
    }

    /// <inheritdoc />
    public bool HasData => _histogram.Total > 0;

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        _histogram.Add(values, absolute: true);
        foreach (var v in values) { if (v < _min) _min = v; if (v > _max) _max = v; }
    }

    /// <inheritdoc />
    public TensorRange ComputeRange()
    {
        if (!HasData) throw new InvalidOperationException("No values were observed.");
        var counts = _histogram.Counts;
        int used = counts.Length;
        while (used > 1 && counts[used - 1] == 0) used--;
        int best = used;
        if (used > _quantizedBins)
        {
            double bestDivergence = double.PositiveInfinity;
            for (int threshold = _quantizedBins; threshold <= used; threshold++)
            {
                double divergence = Divergence(counts, threshold, _quantizedBins);
                if (divergence < bestDivergence) (bestDivergence, best) = (divergence, threshold);
            }
        }
        float limit = (float)(_histogram.Low + best * _histogram.BinWidth);
        return new TensorRange(MathF.Max(_min, -limit), MathF.Min(_max, limit));
    }

    /// <summary>KL(P‖Q) for the first <paramref name="threshold"/> bins, P with the tail folded in, Q coarsened to <paramref name="levels"/>.</summary>
    internal static double Divergence(ReadOnlySpan<long> counts, int threshold, int levels)
    {
        var reference = new double[threshold];
        for (int i = 1; i < threshold; i++) reference[i] = counts[i];
        for (int i = threshold; i < counts.Length; i++) reference[threshold - 1] += counts[i];

        var expanded = new double[threshold];
        double binsPerLevel = (double)threshold / levels;
        for (int level = 0; level < levels; level++)
        {
            int start = (int)Math.Round(level * binsPerLevel), end = level == levels - 1 ? threshold : (int)Math.Round((level + 1) * binsPerLevel);
            double sum = 0;
            int nonEmpty = 0;
            for (int i = Math.Max(start, 1); i < end; i++) { sum += counts[i]; if (counts[i] != 0) nonEmpty++; }
            if (nonEmpty == 0) continue;
            for (int i = Math.Max(start, 1); i < end; i++) if (counts[i] != 0) expanded[i] = sum / nonEmpty;
        }

        double totalP = 0, totalQ = 0;
        for (int i = 0; i < threshold; i++) { totalP += reference[i]; totalQ += expanded[i]; }
        if (totalP == 0 || totalQ == 0) return double.PositiveInfinity;
        double divergence = 0;
        for (int i = 0; i < threshold; i++)
        {
            if (reference[i] == 0) continue;
            double p = reference[i] / totalP;
            double q = expanded[i] / totalQ;
            divergence += q == 0 ? p * 20 : p * Math.Log(p / q);
        }
        return divergence;
    }
}
