using MLNet.Quantization.Calibration;

namespace MLNet.Quantization.Tests;

public class CalibrationCollectorTests
{
    private static float[] Gaussian(int count, int seed, float sigma = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = sigma * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return values;
    }

    private static void AddInBatches(IRangeCollector collector, float[] values, int batches)
    {
        int size = values.Length / batches;
        for (int b = 0; b < batches; b++) collector.Add(values.AsSpan(b * size, b == batches - 1 ? values.Length - b * size : size));
    }

    private static double SortedQuantile(float[] values, double fraction)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[(int)Math.Clamp(fraction * sorted.Length, 0, sorted.Length - 1)];
    }

    [Fact]
    public void MinMax_is_the_exact_extremes_over_all_batches()
    {
        var collector = new MinMaxCollector();
        collector.Add(new[] { 1f, 2f, 3f });
        collector.Add(new[] { -4f, 0.5f });
        collector.Add(new[] { 2.5f, 7f });
        Assert.Equal(new TensorRange(-4f, 7f), collector.ComputeRange());
    }

    [Fact]
    public void MinMax_moving_average_moves_by_the_constant_each_batch()
    {
        var collector = new MinMaxCollector(0.5f);
        collector.Add(new[] { -2f, 2f });
        collector.Add(new[] { 0f, 6f });
        collector.Add(new[] { -6f, 2f });
        // min: -2 → -1 → -3.5; max: 2 → 4 → 3 (hand-computed: m += c·(batch − m)).
        Assert.Equal(new TensorRange(-3.5f, 3f), collector.ComputeRange());
    }

    [Theory]
    [InlineData(99.9, 3.0902)]
    [InlineData(99.0, 2.3263)]
    public void Percentile_of_a_gaussian_matches_the_analytical_quantile(double percentile, double z)
    {
        const float sigma = 1.7f;
        var values = Gaussian(400_000, 5, sigma);
        var collector = new PercentileCollector(percentile);
        AddInBatches(collector, values, 40);
        var range = collector.ComputeRange();
        Assert.InRange(range.Max, z * sigma * 0.98, z * sigma * 1.02);
        Assert.InRange(range.Min, -z * sigma * 1.02, -z * sigma * 0.98);
    }

    [Fact]
    public void Symmetric_percentile_uses_magnitudes_and_keeps_a_zero_lower_end_for_positive_data()
    {
        var values = Gaussian(200_000, 6).Select(MathF.Abs).ToArray();
        var collector = new PercentileCollector(99.0, symmetric: true);
        AddInBatches(collector, values, 10);
        var range = collector.ComputeRange();
        Assert.Equal(values.Min(), range.Min);
        Assert.InRange(range.Max, 2.5758 * 0.98, 2.5758 * 1.02);
    }

    [Fact]
    public void Histogram_growing_in_both_directions_keeps_counts_and_quantiles()
    {
        var histogram = new StreamingHistogram(256);
        var first = Enumerable.Range(0, 1000).Select(i => i / 1000f).ToArray();
        var second = Enumerable.Range(0, 1000).Select(i => -5f + i / 100f).ToArray();
        var third = Enumerable.Range(0, 1000).Select(i => i / 10f).ToArray();
        histogram.Add(first, absolute: false);
        histogram.Add(second, absolute: false);
        histogram.Add(third, absolute: false);
        var all = first.Concat(second).Concat(third).ToArray();

        Assert.Equal(3000, histogram.Total);
        Assert.Equal(3000, histogram.Counts.ToArray().Sum());
        Assert.Equal(all.Min(), histogram.Min);
        Assert.Equal(all.Max(), histogram.Max);
        foreach (var fraction in new[] { 0.1, 0.5, 0.9 })
            Assert.InRange(histogram.Quantile(fraction), SortedQuantile(all, fraction) - histogram.BinWidth, SortedQuantile(all, fraction) + histogram.BinWidth);
    }

    [Fact]
    public void Entropy_clips_rare_outliers_but_keeps_the_bulk_of_a_gaussian()
    {
        var values = Gaussian(100_000, 7);
        values[10] = 60f;
        values[20] = -55f;
        var collector = new EntropyCollector();
        AddInBatches(collector, values, 10);
        var range = collector.ComputeRange();
        Assert.InRange(range.Max, 2.5f, 30f);
        Assert.InRange(range.Min, -30f, -2.5f);
    }

    [Fact]
    public void Entropy_keeps_the_whole_range_of_uniform_data()
    {
        var random = new Random(8);
        var values = Enumerable.Range(0, 100_000).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var collector = new EntropyCollector();
        collector.Add(values);
        var range = collector.ComputeRange();
        Assert.InRange(range.Max, 0.9f, 1f);
        Assert.InRange(range.Min, -1f, -0.9f);
    }

    [Fact]
    public void Collectors_refuse_to_give_a_range_before_any_data()
    {
        Assert.Throws<InvalidOperationException>(() => new MinMaxCollector().ComputeRange());
        Assert.Throws<InvalidOperationException>(() => new PercentileCollector().ComputeRange());
        Assert.Throws<InvalidOperationException>(() => new EntropyCollector().ComputeRange());
    }
}
