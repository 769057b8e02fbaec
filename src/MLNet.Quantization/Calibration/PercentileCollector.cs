namespace MLNet.Quantization.Calibration;

/// <summary>
/// Range from percentiles of a streaming histogram. Asymmetric: [P(100 − p), P(p)] of the values.
/// Symmetric: ±P(p) of |x|, clipped to the observed min and max (so all-positive tensors keep a lower end of 0).
/// </summary>
internal sealed class PercentileCollector : IRangeCollector
{
    private readonly StreamingHistogram _histogram;
    private readonly double _percentile;
    private readonly bool _symmetric;
    private float _min = float.PositiveInfinity, _max = float.NegativeInfinity;

    /// <summary>Creates a collector for <paramref name="percentile"/> in (50, 100].</summary>
    public PercentileCollector(double percentile = 99.999, bool symmetric = false, int binCount = 2048)
    {
        if (!(percentile > 50 && percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must be in (50, 100].");
        _percentile = percentile;
        _symmetric = symmetric;
        _histogram = new StreamingHistogram(binCount);
    }

    /// <inheritdoc />
    public bool HasData => _histogram.Total > 0;

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        _histogram.Add(values, _symmetric);
        if (_symmetric)
        {
            foreach (var v in values) { if (v < _min) _min = v; if (v > _max) _max = v; }
        }
    }

    /// <inheritdoc />
    public TensorRange ComputeRange()
    {
        if (!HasData) throw new InvalidOperationException("No values were observed.");
        double upper = _histogram.Quantile(_percentile / 100.0);
        if (_symmetric) return new TensorRange(MathF.Max(_min, (float)-upper), MathF.Min(_max, (float)upper));
        double lower = _histogram.Quantile(1.0 - _percentile / 100.0);
        return new TensorRange((float)lower, (float)upper);
    }
}
