namespace MLNet.Quantization.Tests;

public class QuantMathTests
{
    [Fact]
    public void Asymmetric_uint8_matches_hand_computed_parameters()
    {
        // range [-1, 3]: scale = 4/255, zero point = round(0 - (-1)/(4/255)) = round(63.75) = 64
        var p = QuantMath.Compute(-1f, 3f, 0, 255, symmetric: false);
        Assert.Equal(4f / 255f, p.Scale, 6);
        Assert.Equal(64, p.ZeroPoint);
        Assert.Equal(64, QuantMath.Quantize(0f, p, 0, 255));
        Assert.Equal(255, QuantMath.Quantize(3f, p, 0, 255));
        Assert.Equal(0, QuantMath.Quantize(-1f, p, 0, 255));
        Assert.Equal(255, QuantMath.Quantize(100f, p, 0, 255));
    }

    [Fact]
    public void Range_is_widened_to_include_zero()
    {
        var p = QuantMath.Compute(2f, 4f, 0, 255, symmetric: false);
        Assert.Equal(4f / 255f, p.Scale, 6);
        Assert.Equal(0, p.ZeroPoint);
    }

    [Fact]
    public void Symmetric_int8_uses_plus_minus_127_with_zero_point_zero()
    {
        var p = QuantMath.Compute(-0.5f, 2.54f, -127, 127, symmetric: true);
        Assert.Equal(2.54f / 127f, p.Scale, 6);
        Assert.Equal(0, p.ZeroPoint);
        Assert.Equal(127, QuantMath.Quantize(2.54f, p, -127, 127));
        Assert.Equal(-25, QuantMath.Quantize(-0.5f, p, -127, 127));
    }

    [Fact]
    public void Rounding_is_half_to_even()
    {
        var p = new QuantParams(1f, 0);
        Assert.Equal(2, QuantMath.Quantize(2.5f, p, -128, 127));
        Assert.Equal(4, QuantMath.Quantize(3.5f, p, -128, 127));
        Assert.Equal(-2, QuantMath.Quantize(-2.5f, p, -128, 127));
    }

    [Fact]
    public void Degenerate_range_gives_scale_one_zero_point_zero()
    {
        Assert.Equal(new QuantParams(1f, 0), QuantMath.Compute(0f, 0f, -127, 127, symmetric: true));
    }

    [Fact]
    public void Reduce_range_uses_seven_bits()
    {
        Assert.Equal((-64, 64), QuantMath.IntegerRange(QuantizedType.Int8, true, true));
        Assert.Equal((0, 127), QuantMath.IntegerRange(QuantizedType.UInt8, false, true));
        Assert.Equal((-127, 127), QuantMath.IntegerRange(QuantizedType.Int8, true, false));
    }

    [Fact]
    public void Nan_range_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantMath.Compute(float.NaN, 1f, 0, 255, false));
    }

    [Fact]
    public void Per_channel_weights_get_one_scale_per_column()
    {
        // 2x3 matrix, columns have absmax 1, 2 and 4.
        float[] w = { 1f, -2f, 0.5f, -0.5f, 1f, 4f };
        var q = WeightQuantizer.Quantize(w, new long[] { 2, 3 }, QuantizedType.Int8, true, false, axis: 1);
        Assert.Equal(3, q.Parameters.Length);
        Assert.Equal(1f / 127f, q.Parameters[0].Scale, 6);
        Assert.Equal(2f / 127f, q.Parameters[1].Scale, 6);
        Assert.Equal(4f / 127f, q.Parameters[2].Scale, 6);
        var values = q.Data.Select(b => (int)(sbyte)b).ToArray();
        Assert.Equal(new[] { 127, -127, 16, -64, 64, 127 }, values);
    }

    [Fact]
    public void Dequantized_weights_are_within_half_a_step()
    {
        var w = Metrics.RandomFloats(40 * 30, 42, 3f);
        var q = WeightQuantizer.Quantize(w, new long[] { 40, 30 }, QuantizedType.Int8, true, false, axis: 1);
        for (int i = 0; i < w.Length; i++)
        {
            var p = q.Parameters[i % 30];
            float back = QuantMath.Dequantize((sbyte)q.Data[i], p);
            Assert.True(Math.Abs(back - w[i]) <= p.Scale / 2 + 1e-6, $"element {i}: {w[i]} -> {back}");
        }
    }
}
