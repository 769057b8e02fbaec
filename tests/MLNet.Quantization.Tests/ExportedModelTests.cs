using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Tests;

/// <summary>Models shaped like other tools' exports, judged by ONNX Runtime running the float model on inputs not used for calibration.</summary>
public class ExportedModelTests
{
    private static float[] Run(byte[] model, List<NamedOnnxValue> inputs)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>().ToArray();
    }

    [Theory]
    [InlineData("mobilenetv3", QuantizationFormat.Qdq, 0.999)]
    [InlineData("crnn", QuantizationFormat.Qdq, 0.99)]
    [InlineData("detector", QuantizationFormat.QOperator, 0.999)]
    [InlineData("cntk-opset8", QuantizationFormat.Qdq, 0.999)]
    [InlineData("cntk-opset8", QuantizationFormat.QOperator, 0.999)]
    public void Static_int8_of_exported_style_models_loads_and_matches_float_on_held_out_inputs(string name, QuantizationFormat format, double minCosine)
    {
        var model = ExportedModel.All.Single(m => m.Name == name);
        var floatModel = model.Build();
        var floatBytes = OnnxModelFile.ToBytes(floatModel);
        var result = OnnxQuantizer.Quantize(floatModel, new QuantizationOptions { Mode = QuantizationMode.Static, Format = format, LatencyGuard = false }, model.Samples(100, 24));

        Assert.True(result.Report.QuantizedNodeCount > 0, result.Report.ToString());
        var held = model.Inputs(1, 7000);
        double cosine = Metrics.Cosine(Run(floatBytes, held), Run(result.ToBytes(), held));
        Assert.True(cosine >= minCosine, $"{name}: cosine {cosine:F5}\n{result.Report}");
    }

    [Fact]
    public void An_opset_8_cntk_style_model_is_converted_not_relabelled()
    {
        var model = ExportedModelBuilder.CntkStyle();
        Assert.Contains(model.Graph.Node, n => n.OpType == "BatchNormalization" && n.Attribute.Any(a => a.Name == "spatial"));
        var result = OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.Static, LatencyGuard = false }, ExportedModel.All.Single(m => m.Name == "cntk-opset8").Samples(100, 24));

        var written = result.Model.Proto;
        Assert.True(written.IrVersion >= 4);
        Assert.Equal(new[] { "features" }, written.Graph.Input.Select(i => i.Name));
        Assert.True(written.OpsetImport.Single(o => o.Domain.Length == 0).Version >= 10);
        Assert.DoesNotContain(written.Graph.Node, n => n.Attribute.Any(a => a.Name == "spatial"));
        Assert.DoesNotContain(written.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.True(result.Report.CompressionRatio > 3, result.Report.ToString());
        Assert.Equal(ExportedModelBuilder.CntkStyle().Graph.Input.Count, model.Graph.Input.Count);
    }

    [Fact]
    public void Batch_normalization_with_spatial_0_and_opset_6_are_refused_with_the_reason()
    {
        var perElement = ExportedModelBuilder.CntkStyle();
        var norm = perElement.Graph.Node.First(n => n.OpType == "BatchNormalization");
        norm.Attribute.Single(a => a.Name == "spatial").I = 0;
        var error = Assert.Throws<InvalidOperationException>(() => OnnxQuantizer.Quantize(perElement, new QuantizationOptions()));
        Assert.Contains("spatial = 0", error.Message, StringComparison.Ordinal);
        Assert.Contains(norm.Name, error.Message, StringComparison.Ordinal);

        var b = new GraphBuilder("old", 6);
        b.Node("Relu", new[] { b.Input("x", Onnx.Protos.TensorProto.Types.DataType.Float, 1L, 4L) }, "y");
        var old = b.Output("y", Onnx.Protos.TensorProto.Types.DataType.Float, 1L, 4L).Build(irVersion: 3);
        var tooOld = Assert.Throws<InvalidOperationException>(() => OnnxQuantizer.Quantize(old, new QuantizationOptions()));
        Assert.Contains("imports opset 6", tooOld.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Depthwise_and_squeeze_excite_regions_rank_below_dense_convolutions_for_the_latency_guard()
    {
        var model = ExportedModelBuilder.MobileNetV3Block();
        var graph = new GraphEditor(new OnnxModel(model.Proto.Clone()));
        Preparation.OpsetUpgrade.To10(graph);
        Preparation.BatchNormFolding.Apply(graph);
        var factory = new CandidateFactory(graph.Model, new QuantizationOptions { Mode = QuantizationMode.Static }, ExportedModel.All[0].Samples(100, 2), null, CancellationToken.None);
        var candidate = factory.Build(CalibrationMethod.MinMax, new Dictionary<int, string>());

        var regions = factory.RankRegions(candidate);
        bool IsDepthwise(int i) => graph.Graph.Node[i].OpType == "Conv" && NodeAttributes.GetInt(graph.Graph.Node[i], "group", 1) > 1;
        bool IsDense(int i) => graph.Graph.Node[i].OpType == "Conv" && NodeAttributes.GetInt(graph.Graph.Node[i], "group", 1) == 1 && graph.TryGetConstant(graph.Graph.Node[i].Input[1], out var w) && w.Dims[2] == 1 && w.Dims[1] >= 32;
        var depthwise = regions.Where(r => r.NodeIndexes.Any(IsDepthwise)).Select(r => r.Payoff).ToList();
        var dense = regions.Where(r => r.NodeIndexes.Any(IsDense)).Select(r => r.Payoff).ToList();
        Assert.NotEmpty(depthwise);
        Assert.NotEmpty(dense);
        Assert.True(depthwise.Max() < dense.Max(), $"depthwise payoffs {string.Join(", ", depthwise)}; dense {string.Join(", ", dense)}");
        Assert.All(regions, r => Assert.True(r.MultiplyAdds >= 0 && r.ConvertedElements > 0));
        Assert.Contains(regions, r => r.MultiplyAdds > 1e5);
        Assert.Contains(regions, r => r.NodeIndexes.Count > 1);
        Assert.Equal(candidate.Plan.Nodes.Count, regions.Sum(r => r.NodeIndexes.Count));
    }

    [Fact]
    public void The_latency_guard_reports_what_it_measured_and_its_output_still_matches_float()
    {
        var model = ExportedModel.All.Single(m => m.Name == "crnn");
        var floatModel = model.Build();
        var result = OnnxQuantizer.Quantize(floatModel, new QuantizationOptions { Mode = QuantizationMode.Static }, model.Samples(100, 24));

        Assert.Contains(result.Report.Notes, n => n.StartsWith("latency guard: ", StringComparison.Ordinal));
        Assert.Contains("latency guard", result.Report.ToString(), StringComparison.Ordinal);
        var handedBack = result.Report.Nodes.Count(n => n.Detail == StaticPlanner.LatencyGuardReason);
        Assert.True(handedBack == 0 || result.Report.Notes.Any(n => n.Contains("went back to float", StringComparison.Ordinal)));
        var held = model.Inputs(1, 7001);
        double cosine = Metrics.Cosine(Run(OnnxModelFile.ToBytes(floatModel), held), Run(result.ToBytes(), held));
        Assert.True(cosine >= 0.995, $"cosine {cosine:F5}");
    }
}
