using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.WeightOnly;

public class MixedPrecisionTests
{
    /// <summary>x[2,128] → MatMul(a) → MatMul(b) → MatMul(c) → y; weight b is heavy-tailed (its 4-bit error is the largest).</summary>
    private static OnnxModel ThreeLayers()
    {
        var builder = new GraphBuilder("three");
        var x = builder.Input("x", DataType.Float, 2L, 128L);
        var random = new Random(4);
        float[] Gaussian(double outlierShare)
        {
            var values = new float[128 * 128];
            for (int i = 0; i < values.Length; i++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                values[i] = (float)(g * 0.05 * (random.NextDouble() < outlierShare ? 12 : 1));
            }
            return values;
        }
        var h = builder.Node("MatMul", new[] { x, builder.Initializer("a", new long[] { 128, 128 }, Gaussian(0)) }, null);
        h = builder.Node("MatMul", new[] { h, builder.Initializer("b", new long[] { 128, 128 }, Gaussian(0.02)) }, null);
        builder.Node("MatMul", new[] { h, builder.Initializer("c", new long[] { 128, 128 }, Gaussian(0)) }, "y");
        builder.Output("y", DataType.Float, 2L, 128L);
        return builder.Build();
    }

    [Fact]
    public void The_weight_with_the_largest_four_bit_error_gets_eight_bits_within_the_budget()
    {
        var settings = new WeightOnlyOptions { BlockSize = 32, AccuracyLevel = 0 };
        double budget = settings.StoredBits(4) + (settings.StoredBits(8) - settings.StoredBits(4)) / 3 + 0.01;
        var model = ThreeLayers();
        var result = OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.WeightOnly, WeightOnly = settings with { BitsPerWeightBudget = budget } });
        var details = result.Report.Nodes.Select(n => n.Detail).ToList();
        Assert.StartsWith("MatMulNBits 4-bit", details[0]);
        Assert.StartsWith("MatMulNBits 8-bit", details[1]);
        Assert.StartsWith("MatMulNBits 4-bit", details[2]);
        Assert.Contains(result.Report.Notes, n => n.StartsWith("mixed precision: 8 bits for 1 of 3 weights", StringComparison.Ordinal));

        var nodes = result.Model.Graph.Node.ToList();
        double stored = result.Model.Graph.Initializer.Sum(t => TensorData.ElementCount(t) * ElementType.SizeOf(t.DataType) * 8.0);
        Assert.True(stored / (3 * 128 * 128) <= budget, $"{stored / (3 * 128 * 128):F3} bits/weight over budget {budget:F3}");

        var x = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(256, 3), new[] { 2, 128 }) };
        var reference = (float[])x["x"].Item1;
        foreach (var node in nodes) reference = MatMulNBitsReference.MatMul(reference, 2, MatMulNBitsReference.Dequantize(result.Model, node), 128, 128);
        var actual = OrtRunner.Run(result.Model, x)["y"];
        Assert.True(Metrics.MaxAbsDiff(reference, actual) <= 1e-3 * (1 + reference.Max(MathF.Abs)), $"max diff {Metrics.MaxAbsDiff(reference, actual)}");

        var uniform = OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.WeightOnly, WeightOnly = settings });
        var floatY = OrtRunner.Run(model, x)["y"];
        double mixedCosine = Metrics.Cosine(floatY, actual), uniformCosine = Metrics.Cosine(floatY, OrtRunner.Run(uniform.Model, x)["y"]);
        Assert.True(mixedCosine > uniformCosine, $"the 8-bit layer did not bring the output closer to float: {mixedCosine:F6} vs {uniformCosine:F6}");
    }

    [Fact]
    public void Budgets_that_cannot_work_are_refused()
    {
        var tooLow = new QuantizationOptions { Mode = QuantizationMode.WeightOnly, WeightOnly = new WeightOnlyOptions { BitsPerWeightBudget = 4.5 } };
        Assert.Contains("bits/weight (all 4-bit)", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), tooLow)).Message);
        var nf4 = new QuantizationOptions { Mode = QuantizationMode.WeightOnly, WeightOnly = new WeightOnlyOptions { Format = WeightOnlyFormat.Nf4, BitsPerWeightBudget = 6 } };
        Assert.Contains("use Bits = 4 with the Integer format", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), nf4)).Message);
    }

    [Fact]
    public void A_shared_weight_is_promoted_once_for_all_its_nodes_and_stored_once()
    {
        var builder = new GraphBuilder("shared");
        var x = builder.Input("x", DataType.Float, 2L, 128L);
        var w = builder.Initializer("w", new long[] { 128, 128 }, Metrics.RandomFloats(128 * 128, 2, 0.05f));
        builder.Node("MatMul", new[] { builder.Node("MatMul", new[] { x, w }), w }, "y");
        builder.Output("y", DataType.Float, 2L, 128L);
        var settings = new WeightOnlyOptions { BlockSize = 32 };
        var result = OnnxQuantizer.Quantize(builder.Build(), new QuantizationOptions { Mode = QuantizationMode.WeightOnly, WeightOnly = settings with { BitsPerWeightBudget = settings.StoredBits(8) } });
        Assert.All(result.Report.Nodes, n => Assert.StartsWith("MatMulNBits 8-bit", n.Detail));
        Assert.Equal(3, result.Model.Graph.Initializer.Count);
        Assert.Contains(result.Report.Notes, n => n.StartsWith("mixed precision: 8 bits for 1 of 1 weights", StringComparison.Ordinal));
    }
}
