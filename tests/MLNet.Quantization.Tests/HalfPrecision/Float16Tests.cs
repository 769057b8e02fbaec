using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.HalfPrecision;

public class Float16Tests
{
    private const int Tokens = 4, Width = 64, Hidden = 128;

    /// <summary>
    /// x[4,64] → MatMul(W1) → Add(b1) → LayerNormalization → Clip(0, 6) → MatMul(W2) → Add(mask constant −1e9 on one
    /// column) → y[4,64]; optionally also a Relu output that a half-precision node would produce.
    /// </summary>
    private static OnnxModel Block(Func<float[], float[]>? roundWeights = null, long opset = 17, bool roundMask = false)
    {
        roundWeights ??= w => w;
        var b = new GraphBuilder("block", opset);
        var x = b.Input("x", DataType.Float, (long)Tokens, (long)Width);
        var w1 = b.Initializer("w1", new long[] { Width, Hidden }, roundWeights(Metrics.RandomFloats(Width * Hidden, 1, 0.2f)));
        var b1 = b.Initializer("b1", new long[] { Hidden }, roundWeights(Metrics.RandomFloats(Hidden, 2, 0.1f)));
        var h = b.Node("Add", new[] { b.Node("MatMul", new[] { x, w1 }), b1 });
        var gamma = b.Initializer("gamma", new long[] { Hidden }, roundWeights(Metrics.RandomFloats(Hidden, 3, 0.3f).Select(v => 1 + v).ToArray()));
        var beta = b.Initializer("beta", new long[] { Hidden }, roundWeights(Metrics.RandomFloats(Hidden, 4, 0.1f)));
        var normed = opset >= 17
            ? b.Node("LayerNormalization", new[] { h, gamma, beta }, "normed", OnnxAttribute.Int("axis", -1))
            : b.Node("Mul", new[] { h, gamma }, "normed");
        var clipped = b.Node("Clip", new[] { normed, b.Initializer("lo", new long[0], new[] { 0f }), b.Initializer("hi", new long[0], new[] { 6f }) }, "clipped");
        var w2 = b.Initializer("w2", new long[] { Hidden, Width }, roundWeights(Metrics.RandomFloats(Hidden * Width, 5, 0.2f)));
        var mask = new float[Width];
        mask[3] = -1e9f;
        b.Node("Add", new[] { b.Node("MatMul", new[] { clipped, w2 }), b.Initializer("mask", new long[] { Width }, roundMask ? roundWeights(mask) : mask) }, "y");
        b.Output("y", DataType.Float, (long)Tokens, (long)Width);
        b.Output("clipped", DataType.Float, (long)Tokens, (long)Hidden);
        return b.Build();
    }

    private static Dictionary<string, (Array, int[])> Input(int seed) => new() { ["x"] = (Metrics.RandomFloats(Tokens * Width, seed), new[] { Tokens, Width }) };

    private static QuantizationOptions Options(Float16Options settings) => new() { Mode = QuantizationMode.Float16, MinimumWeightElements = 64, Float16 = settings };

    /// <summary>Round to the nearest value with <paramref name="significantBits"/> significant bits, ties to even, in double precision.</summary>
    private static float[] Round(float[] values, int significantBits) => values.Select(v =>
    {
        if (v == 0) return 0f;
        double step = Math.Pow(2, Math.Floor(Math.Log2(Math.Abs(v))) - (significantBits - 1));
        return (float)(Math.Round(v / step, MidpointRounding.ToEven) * step);
    }).ToArray();

    [Theory]
    [InlineData(HalfPrecisionType.Float16, 11)]
    [InlineData(HalfPrecisionType.BFloat16, 8)]
    public void Weights_only_conversion_computes_exactly_what_float32_computes_with_rounded_weights(HalfPrecisionType type, int significantBits)
    {
        var model = Block();
        var result = OnnxQuantizer.Quantize(model, Options(new Float16Options { Type = type, HalfCompute = false }));
        var halfName = type == HalfPrecisionType.Float16 ? DataType.Float16 : DataType.Bfloat16;
        bool bfloat = type == HalfPrecisionType.BFloat16;
        var expectedHalf = bfloat ? new[] { "b1", "beta", "gamma", "mask", "w1", "w2" } : new[] { "b1", "beta", "gamma", "w1", "w2" };
        Assert.Equal(expectedHalf, result.Model.Graph.Initializer.Where(t => t.DataType == (int)halfName).Select(t => t.Name.Split('_')[0]).OrderBy(n => n, StringComparer.Ordinal));
        if (!bfloat) Assert.Contains(result.Model.Graph.Initializer, t => t.Name == "mask" && t.DataType == (int)DataType.Float);
        Assert.InRange(result.Report.CompressionRatio, 1.9, 2.0);

        var reference = Block(w => Round(w, significantBits), roundMask: bfloat);
        foreach (var seed in new[] { 7, 8 })
        {
            var expected = OrtRunner.Run(reference, Input(seed));
            var actual = OrtRunner.Run(result.Model, Input(seed));
            foreach (var output in new[] { "y", "clipped" })
                Assert.True(Metrics.MaxAbsDiff(expected[output], actual[output]) <= 1e-5f * (1 + expected[output].Where(float.IsFinite).Max(MathF.Abs)), $"{output}: {Metrics.MaxAbsDiff(expected[output], actual[output])}");
        }
    }

    [Fact]
    public void Half_compute_runs_the_operators_with_cpu_kernels_in_float16_and_keeps_graph_outputs_float32()
    {
        var model = Block();
        var result = OnnxQuantizer.Quantize(model, Options(new Float16Options()));
        Assert.Contains(result.Report.Nodes, n => n.OpType == "LayerNormalization" && n.Detail == "float16 compute");
        Assert.Contains(result.Report.Nodes, n => n.OpType == "Clip" && n.Detail == "float16 compute");
        Assert.Contains(result.Report.Nodes, n => n.OpType == "MatMul" && n.Detail.StartsWith("float32 compute, float16 weights (no float16 kernel", StringComparison.Ordinal));
        Assert.Contains(result.Report.Notes, n => n.StartsWith("float32 compute (no float16 kernel in ONNX Runtime's CPU provider): Add ×2, MatMul ×2", StringComparison.Ordinal));
        Assert.Equal(new[] { "y", "clipped" }, result.Model.Graph.Output.Select(o => o.Name));
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "Cast" && n.Output[0] == "clipped");

        var floatOutputs = OrtRunner.Run(model, Input(9));
        var halfOutputs = OrtRunner.Run(result.Model, Input(9));
        Assert.True(float.IsNegativeInfinity(halfOutputs["y"][3]) is false && halfOutputs["y"][3] < -1e8f, "the −1e9 mask constant stayed float32");
        foreach (var output in new[] { "y", "clipped" })
        {
            double cosine = Metrics.Cosine(floatOutputs[output].Where((_, i) => output != "y" || i % Width != 3).ToArray(), halfOutputs[output].Where((_, i) => output != "y" || i % Width != 3).ToArray());
            Assert.True(cosine >= 0.99999, $"{output}: cosine {cosine:F7}");
        }
    }

    [Fact]
    public void Opsets_without_float16_kernels_excluded_nodes_and_big_constants_stay_float32()
    {
        var old = OnnxQuantizer.Quantize(Block(opset: 11), Options(new Float16Options()));
        Assert.Contains(old.Report.Nodes, n => n.OpType == "Clip" && n.Detail.EndsWith("before opset 12", StringComparison.Ordinal));

        var excluded = OnnxQuantizer.Quantize(Block(), Options(new Float16Options()) with { OpTypesToExclude = new[] { "LayerNormalization" } });
        Assert.Contains(excluded.Report.Nodes, n => n.OpType == "LayerNormalization" && n.Detail == "operator type excluded");
        Assert.Contains(excluded.Model.Graph.Initializer, t => t.Name == "gamma" && t.DataType == (int)DataType.Float);
        Assert.True(Metrics.Cosine(OrtRunner.Run(Block(), Input(3))["clipped"], OrtRunner.Run(excluded.Model, Input(3))["clipped"]) >= 0.99999);

        var huge = new GraphBuilder("huge");
        var x = huge.Input("x", DataType.Float, 2L, 300L);
        huge.Node("Mul", new[] { x, huge.Initializer("big", new long[] { 300 }, Enumerable.Repeat(1e5f, 300).ToArray()) }, "y");
        huge.Output("y", DataType.Float, 2L, 300L);
        var kept = OnnxQuantizer.Quantize(huge.Build(), Options(new Float16Options()));
        Assert.Equal((int)DataType.Float, Assert.Single(kept.Model.Graph.Initializer).DataType);
    }

    [Fact]
    public void Constant_node_weights_are_converted_and_bfloat16_needs_opset_13()
    {
        var b = new GraphBuilder("constant_weights", 13);
        var x = b.Input("x", DataType.Float, 2L, 64L);
        b.Node("MatMul", new[] { x, "w" }, "y");
        b.Output("y", DataType.Float, 2L, 32L);
        var model = b.Build();
        var constant = new Onnx.Protos.NodeProto { OpType = "Constant", Name = "weights" };
        constant.Output.Add("w");
        constant.Attribute.Add(new Onnx.Protos.AttributeProto { Name = "value", Type = Onnx.Protos.AttributeProto.Types.AttributeType.Tensor, T = TensorData.FromFloats("", new long[] { 64, 32 }, Metrics.RandomFloats(64 * 32, 4, 0.2f)) });
        model.Graph.Node.Insert(0, constant);
        var result = OnnxQuantizer.Quantize(model, Options(new Float16Options()));
        Assert.DoesNotContain(result.Model.Graph.Node, n => n.OpType == "Constant");
        Assert.Equal((int)DataType.Float16, Assert.Single(result.Model.Graph.Initializer).DataType);
        var input = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(128, 5), new[] { 2, 64 }) };
        Assert.True(Metrics.Cosine(OrtRunner.Run(model, input)["y"], OrtRunner.Run(result.Model, input)["y"]) >= 0.99999);

        var error = Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(Block(opset: 11), Options(new Float16Options { Type = HalfPrecisionType.BFloat16 })));
        Assert.Contains("bfloat16 weights need opset 13 or later", error.Message);
        Assert.Contains("OpTypesToQuantize", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(model, Options(new Float16Options()) with { OpTypesToQuantize = new[] { "MatMul" } })).Message);
    }

    [Fact]
    public void Cli_converts_to_float16_inspect_describes_it_and_misplaced_options_are_refused()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(Block(), folder.File("block.onnx"));
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "quantize", folder.File("block.onnx"), "-o", folder.File("half.onnx"), "--mode", "float16", "--min-weight-elements", "64" }, output, new StringWriter()));
        Assert.Contains("float16 compute", output.ToString());
        output = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "inspect", folder.File("half.onnx") }, output, new StringWriter()));
        Assert.Contains("Quantization: float16 (weights:", output.ToString());
        Assert.Contains("2 nodes compute in float16", output.ToString());

        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(new[] { "quantize", folder.File("block.onnx"), "-o", folder.File("q.onnx"), "--half-type", "bfloat16" }, new StringWriter(), error));
        Assert.Contains("--half-type is used only with --mode float16", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, CliApp.Run(new[] { "quantize", folder.File("block.onnx"), "-o", folder.File("q.onnx"), "--mode", "float16", "--bits", "4" }, new StringWriter(), error));
        Assert.Contains("--bits is used only with --mode weight-only", error.ToString());
        Assert.False(File.Exists(folder.File("q.onnx")));
    }
}
