using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests;

/// <summary>Every static operator family in one integer region, checked against the float model in both formats.</summary>
public class OperatorCoverageTests
{
    /// <summary>
    /// x[1,4,8,8] → Conv → Relu ─┬→ Conv → Sigmoid ─┐
    ///                            ├→ Add(relu, conv) → Mul(·, sigmoid) → AveragePool → Resize ×2 ─┐
    ///                            └──────────────────────────────────────────────────────────────→ Concat → Conv
    /// → Transpose → Reshape [1,256] → Softmax → MatMul → y[1,10].
    /// </summary>
    private static OnnxModel Build()
    {
        var b = new GraphBuilder("coverage", 13);
        var x = b.Input("x", DataType.Float, 1L, 4L, 8L, 8L);
        string Conv(string input, int outputs, int inputs, int kernel, int seed) => b.Node("Conv",
            new[] { input, b.Initializer($"w{seed}", new long[] { outputs, inputs, kernel, kernel }, Metrics.RandomFloats(outputs * inputs * kernel * kernel, seed, 0.5f)), b.Initializer($"b{seed}", new long[] { outputs }, Metrics.RandomFloats(outputs, seed + 100, 0.1f)) },
            null, OnnxAttribute.Ints("kernel_shape", kernel, kernel), OnnxAttribute.Ints("pads", Enumerable.Repeat((long)(kernel / 2), 4).ToArray()));
        var r1 = b.Node("Relu", new[] { Conv(x, 8, 4, 3, 1) });
        var c2 = Conv(r1, 8, 8, 1, 2);
        var mixed = b.Node("Mul", new[] { b.Node("Add", new[] { r1, c2 }), b.Node("Sigmoid", new[] { c2 }) });
        var pooled = b.Node("AveragePool", new[] { mixed }, null, OnnxAttribute.Ints("kernel_shape", 2, 2), OnnxAttribute.Ints("strides", 2, 2));
        var scales = b.Initializer("scales", new long[] { 4 }, new[] { 1f, 1f, 2f, 2f });
        var upsampled = b.Node("Resize", new[] { pooled, "", scales }, null, OnnxAttribute.String("mode", "nearest"));
        var joined = b.Node("Concat", new[] { upsampled, r1 }, null, OnnxAttribute.Int("axis", 1));
        var c3 = Conv(joined, 4, 16, 1, 3);
        var flat = b.Node("Reshape", new[] { b.Node("Transpose", new[] { c3 }, null, OnnxAttribute.Ints("perm", 0, 2, 3, 1)), b.Initializer(TensorData.FromInt64("shape", new long[] { 2 }, new long[] { 1, 256 })) });
        var probabilities = b.Node("Softmax", new[] { flat }, null, OnnxAttribute.Int("axis", -1));
        b.Node("MatMul", new[] { probabilities, b.Initializer("w4", new long[] { 256, 10 }, Metrics.RandomFloats(2560, 4, 20f)) }, "y");
        b.Output("y", DataType.Float, 1L, 10L);
        return b.Build();
    }

    [Theory]
    [InlineData(QuantizationFormat.Qdq)]
    [InlineData(QuantizationFormat.QOperator)]
    public void All_static_operator_families_match_the_float_model(QuantizationFormat format)
    {
        var model = Build();
        var options = new QuantizationOptions
        {
            Mode = QuantizationMode.Static,
            Format = format,
            MinimumWeightElements = 0,
            OpTypesToQuantize = QuantizationOptions.SupportedStaticOpTypes,
            LatencyGuard = false,
        };
        var calibration = CalibrationData.FromInputs(Enumerable.Range(0, 32).Select(i =>
            (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(Metrics.RandomFloats(256, 700 + i), new[] { 1, 4, 8, 8 })) }));
        var result = OnnxQuantizer.Quantize(model, options, calibration);

        Assert.True(result.Report.Nodes.All(n => n.Quantized), result.Report.ToString());
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(256, seed), new[] { 1, 4, 8, 8 }) };
            var reference = OrtRunner.Run(model, inputs)["y"];
            var quantized = OrtRunner.Run(result.Model, inputs)["y"];
            Assert.True(Metrics.Cosine(reference, quantized) >= 0.99, $"{format}, seed {seed}: cosine {Metrics.Cosine(reference, quantized):F5}");
        }
        if (format == QuantizationFormat.QOperator)
        {
            var ops = result.Model.Graph.Node.Select(n => n.OpType).ToHashSet();
            foreach (var op in new[] { "QLinearConv", "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearAveragePool", "QLinearConcat", "QLinearSoftmax", "Resize", "Transpose", "Reshape" })
                Assert.Contains(op, ops);
            Assert.DoesNotContain("Relu", ops);
        }
    }
}
