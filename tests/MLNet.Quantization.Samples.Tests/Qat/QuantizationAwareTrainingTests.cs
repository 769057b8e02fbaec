using MLNet.Quantization.TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Quantization.Tests.Qat;

public class QuantizationAwareTrainingTests
{
    [Fact]
    public void Fake_quantization_rounds_to_the_grid_and_passes_gradients_straight_through_inside_the_range_only()
    {
        var values = new[] { -3f, -0.26f, 0f, 0.04f, 0.51f, 24.4f, 26f };
        using var x = tensor(values).requires_grad_(true);
        using var y = FakeQuantize.PerTensor(x, tensor(0.1f), zeroPoint: 10, qmin: 0, qmax: 255);
        y.sum().backward();

        var expected = values.Select(v => (Math.Clamp(MathF.Round(v / 0.1f, MidpointRounding.ToEven) + 10, 0, 255) - 10) * 0.1f).ToArray();
        var actual = y.data<float>().ToArray();
        for (int i = 0; i < values.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        Assert.Equal(new[] { 0f, 1f, 1f, 1f, 1f, 1f, 0f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Per_channel_weights_match_the_engines_symmetric_int8_rule_row_by_row()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 4 * 9).Select(_ => (float)(random.NextDouble() * 2 - 1) * (1 + random.Next(4))).ToArray();
        using var weight = tensor(values, new long[] { 4, 9 });
        var actual = FakeQuantize.PerChannelSymmetric(weight, axis: 0, qmin: -127, qmax: 127).data<float>().ToArray();

        for (int row = 0; row < 4; row++)
        {
            var slice = values.Skip(row * 9).Take(9).ToArray();
            var absMax = slice.Max(MathF.Abs);
            var parameters = QuantMath.Compute(-absMax, absMax, -127, 127, symmetric: true);
            for (int column = 0; column < 9; column++)
            {
                var reference = QuantMath.Dequantize(QuantMath.Quantize(slice[column], parameters, -127, 127), parameters);
                Assert.Equal(reference, actual[row * 9 + column], 5);
            }
        }
    }

    [Fact]
    public void Observers_follow_a_moving_average_and_quantize_with_the_engines_uint8_parameters_for_that_range()
    {
        var qat = new QuantizationAwareTraining(reduceRange: false, averagingConstant: 0.25);
        using var first = tensor(new[] { -1f, 0.5f, 3f });
        using var second = tensor(new[] { -2f, 1f, 7f });
        qat.Observe(() => qat.Activation("a", first, training: false));
        qat.Observe(() => qat.Activation("a", second, training: false));
        var (min, max) = qat.Activations["a"].Range;
        Assert.Equal(-1 + 0.25 * (-2 - -1), min, 5);
        Assert.Equal(3 + 0.25 * (7 - 3), max, 5);

        Assert.Empty(qat.StartFineTuning());
        var probe = new[] { -1.3f, -0.01f, 0.2f, 1.777f, 3.9f, 5f };
        using var x = tensor(probe);
        var actual = qat.Activation("a", x, training: false).data<float>().ToArray();
        var parameters = QuantMath.Compute(min, max, 0, 255, symmetric: false);
        for (int i = 0; i < probe.Length; i++)
            Assert.Equal(QuantMath.Dequantize(QuantMath.Quantize(probe[i], parameters, 0, 255), parameters), actual[i], 5);

        var overrides = qat.ToOverrides();
        Assert.Equal(min, overrides.Tensors["a"].Min);
        Assert.Equal(max, overrides.Tensors["a"].Max);
    }

    [Fact]
    public void Learned_scales_receive_gradients_train_and_set_the_exported_range()
    {
        var qat = new QuantizationAwareTraining(reduceRange: false, learnScales: true);
        using var data = linspace(-1, 4, 200);
        qat.Observe(() => qat.Activation("a", data, training: false));
        var observed = qat.Activations["a"].Range;
        var scales = qat.StartFineTuning();
        Assert.Single(scales);

        var optimizer = optim.Adam(scales, lr: 0.01);
        using var target = data.clamp(-1, 2);
        for (int step = 0; step < 150; step++)
        {
            optimizer.zero_grad();
            using var loss = (qat.Activation("a", data, training: true) - target).pow(2).mean();
            loss.backward();
            if (step == 0) Assert.True(scales[0].grad is { } gradient && gradient.item<float>() != 0f, "the learned scale gets a gradient");
            optimizer.step();
        }

        var learned = qat.Activations["a"].Range;
        Assert.True(learned.Max < observed.Max - 1, $"a target clipped at 2 should shrink the range from {observed.Max:F2}; got {learned.Max:F2}");
        Assert.True(Math.Abs(learned.Max - 2) < 0.5, $"learned max {learned.Max:F2} should approach 2");
        Assert.Equal(learned.Min, qat.ToOverrides().Tensors["a"].Min);
    }
}
