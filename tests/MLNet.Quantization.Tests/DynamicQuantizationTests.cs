using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Tests;

public class DynamicQuantizationTests
{
    private static readonly QuantizationOptions SmallWeights = new() { MinimumWeightElements = 0 };

    private static void AssertClose(float[] reference, float[] quantized, double minCosine, double maxRelativeError)
    {
        double scale = reference.Max(MathF.Abs);
        Assert.True(Metrics.Cosine(reference, quantized) >= minCosine, $"cosine {Metrics.Cosine(reference, quantized):F6} < {minCosine}");
        Assert.True(Metrics.MaxAbsDiff(reference, quantized) <= maxRelativeError * scale, $"max abs diff {Metrics.MaxAbsDiff(reference, quantized):G4} > {maxRelativeError} x {scale:G4}");
    }

    private static void AssertSameSignature(OnnxModel expected, OnnxModel actual)
    {
        Assert.Equal(expected.Graph.Input.Select(i => i.ToString()), actual.Graph.Input.Where(i => expected.Graph.Input.Any(e => e.Name == i.Name)).Select(i => i.ToString()));
        Assert.Equal(expected.Graph.Output.Select(o => o.ToString()), actual.Graph.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Mlp_matches_float_model_in_onnx_runtime_and_is_smaller()
    {
        var model = TestModels.Mlp();
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(8 * 64, 100), new[] { 8, 64 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights);

        Assert.Equal(2, result.Model.Graph.Node.Count(n => n.OpType == "DynamicQuantizeMatMul"));
        Assert.DoesNotContain(result.Model.Graph.Node, n => n.OpType is "MatMul" or "Add");
        Assert.Equal(2, result.Model.Graph.Initializer.Count(t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 2));
        AssertSameSignature(model, result.Model);
        AssertClose(OrtRunner.Run(model, inputs)["y"], OrtRunner.Run(result.Model, inputs)["y"], 0.999, 0.03);
        Assert.True(result.Report.CompressionRatio > 3.0, result.Report.ToString());
    }

    [Fact]
    public void Operator_chain_form_uses_standard_ops_and_matches_float()
    {
        var model = TestModels.Mlp();
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(8 * 64, 101), new[] { 8, 64 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights with { MatMulForm = DynamicMatMulForm.OperatorChain });
        Assert.Equal(2, result.Model.Graph.Node.Count(n => n.OpType == "MatMulInteger"));
        Assert.DoesNotContain(result.Model.Graph.Node, n => n.Domain == "com.microsoft");
        AssertClose(OrtRunner.Run(model, inputs)["y"], OrtRunner.Run(result.Model, inputs)["y"], 0.999, 0.03);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gemm_matches_float_model(bool transB)
    {
        var model = TestModels.Gemm(transB);
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(4 * 48, 102), new[] { 4, 48 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights);
        Assert.Single(result.Model.Graph.Node, n => n.OpType == "DynamicQuantizeMatMul");
        AssertClose(OrtRunner.Run(model, inputs)["y"], OrtRunner.Run(result.Model, inputs)["y"], 0.999, 0.03);
    }

    [Fact]
    public void Embedding_gather_dequantizes_rows_within_one_step()
    {
        var model = TestModels.Embedding();
        var ids = new long[] { 0, 5, 99, 42, 7, 7, 13, 64, 1, 2 };
        var inputs = new Dictionary<string, (Array, int[])> { ["ids"] = (ids, new[] { 2, 5 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights);
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "DequantizeLinear");
        var expected = OrtRunner.Run(model, inputs)["y"];
        var actual = OrtRunner.Run(result.Model, inputs)["y"];
        float step = 2f / 255f;
        Assert.True(Metrics.MaxAbsDiff(expected, actual) <= step / 2 + 1e-5, $"max diff {Metrics.MaxAbsDiff(expected, actual)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lstm_becomes_dynamic_quantize_lstm_and_matches_float(bool bidirectional)
    {
        var model = TestModels.Lstm(bidirectional);
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(6 * 2 * 16, 103), new[] { 6, 2, 16 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights);
        Assert.Single(result.Model.Graph.Node, n => n.OpType == "DynamicQuantizeLSTM");
        var expected = OrtRunner.Run(model, inputs);
        var actual = OrtRunner.Run(result.Model, inputs);
        AssertClose(expected["y"], actual["y"], 0.999, 0.05);
        AssertClose(expected["y_h"], actual["y_h"], 0.999, 0.05);
    }

    [Fact]
    public void Conv_stays_float_by_default_with_the_reason_reported()
    {
        var result = OnnxQuantizer.Quantize(TestModels.Conv(), SmallWeights);
        var conv = Assert.Single(result.Report.Nodes);
        Assert.False(conv.Quantized);
        Assert.Contains("slower", conv.Detail);
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "Conv");
        Assert.Contains(result.Report.Notes, n => n.Contains("static mode", StringComparison.Ordinal) && n.StartsWith("1 Conv node(s)", StringComparison.Ordinal));
        Assert.DoesNotContain(OnnxQuantizer.Quantize(TestModels.Mlp(), SmallWeights).Report.Notes, n => n.Contains("Conv node", StringComparison.Ordinal));
    }

    [Fact]
    public void Conv_can_be_forced_to_conv_integer()
    {
        var model = TestModels.Conv();
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(2 * 3 * 16 * 16, 104), new[] { 2, 3, 16, 16 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights with { QuantizeConv = true });
        Assert.Single(result.Model.Graph.Node, n => n.OpType == "ConvInteger");
        AssertClose(OrtRunner.Run(model, inputs)["y"], OrtRunner.Run(result.Model, inputs)["y"], 0.999, 0.05);
    }

    [Fact]
    public void Opset9_model_with_constant_node_weights_and_attribute_clip_quantizes_correctly()
    {
        var model = TestModels.Opset9WithConstants();
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(3 * 64, 105), new[] { 3, 64 }) };
        var result = OnnxQuantizer.Quantize(model, SmallWeights);

        Assert.Equal(9, result.Model.Proto.OpsetImport.Single(o => o.Domain == "").Version);
        var clip = Assert.Single(result.Model.Graph.Node, n => n.OpType == "Clip");
        Assert.Equal(2, clip.Attribute.Count);
        Assert.Equal(2, result.Report.QuantizedNodeCount);
        Assert.DoesNotContain(result.Model.Graph.Node, n => n.OpType == "Constant" && n.Output[0] is "w1" or "w2");
        AssertClose(OrtRunner.Run(model, inputs)["y"], OrtRunner.Run(result.Model, inputs)["y"], 0.999, 0.03);
    }

    [Fact]
    public void Weights_shared_by_two_nodes_are_quantized_once()
    {
        var b = new GraphBuilder("shared");
        var x1 = b.Input("x1", TensorProto.Types.DataType.Float, 2L, 32L);
        var x2 = b.Input("x2", TensorProto.Types.DataType.Float, 2L, 32L);
        var w = b.Initializer("w", new long[] { 32, 32 }, Metrics.RandomFloats(32 * 32, 16));
        b.Node("MatMul", new[] { x1, w }, "y1");
        b.Node("MatMul", new[] { x2, w }, "y2");
        b.Output("y1", TensorProto.Types.DataType.Float, 2L, 32L).Output("y2", TensorProto.Types.DataType.Float, 2L, 32L);
        var result = OnnxQuantizer.Quantize(b.Build(), SmallWeights);
        Assert.Single(result.Model.Graph.Initializer, t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 2);
        Assert.DoesNotContain(result.Model.Graph.Initializer, t => t.Name == "w");
    }

    [Fact]
    public void Exclusions_and_minimum_size_keep_nodes_float_with_reasons()
    {
        var model = TestModels.Mlp();
        var firstMatMul = model.Graph.Node.First(n => n.OpType == "MatMul").Name;
        var byName = OnnxQuantizer.Quantize(model, SmallWeights with { NodesToExclude = new[] { firstMatMul } });
        Assert.Equal(1, byName.Report.QuantizedNodeCount);
        Assert.Contains(byName.Report.Nodes, n => n.NodeName == firstMatMul && n.Detail == "excluded by name");

        var byType = OnnxQuantizer.Quantize(model, SmallWeights with { OpTypesToExclude = new[] { "MatMul" } });
        Assert.Equal(0, byType.Report.QuantizedNodeCount);

        var bySize = OnnxQuantizer.Quantize(model, new QuantizationOptions { MinimumWeightElements = 1000 });
        Assert.Equal(1, bySize.Report.QuantizedNodeCount);
        Assert.Contains(bySize.Report.Nodes, n => !n.Quantized && n.Detail.Contains("MinimumWeightElements"));
    }

    [Fact]
    public void Uint8_weights_per_tensor_reduce_range_still_match_float()
    {
        var model = TestModels.Mlp();
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(8 * 64, 106), new[] { 8, 64 }) };
        var options = SmallWeights with { WeightType = QuantizedType.UInt8, SymmetricWeights = false, PerChannel = false, ReduceRange = true };
        var result = OnnxQuantizer.Quantize(model, options);
        Assert.Contains(result.Model.Graph.Initializer, t => t.DataType == (int)TensorProto.Types.DataType.Uint8 && t.Dims.Count == 2);
        AssertClose(OrtRunner.Run(model, inputs)["y"], OrtRunner.Run(result.Model, inputs)["y"], 0.995, 0.08);
    }

    [Fact]
    public void Input_model_is_not_modified()
    {
        var model = TestModels.Mlp();
        var before = model.Proto.ToByteArrayForTest();
        OnnxQuantizer.Quantize(model, SmallWeights);
        Assert.Equal(before, model.Proto.ToByteArrayForTest());
    }

    [Fact]
    public void Unknown_op_type_in_options_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), new QuantizationOptions { OpTypesToQuantize = new[] { "Softmax" } }));
        Assert.Contains("Softmax", error.Message);
    }
}

internal static class ProtoTestExtensions
{
    public static byte[] ToByteArrayForTest(this ModelProto model) => Google.Protobuf.MessageExtensions.ToByteArray(model);
}
