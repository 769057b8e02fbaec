using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>Overrides change exactly what they name, and a name the model lacks is an error.</summary>
public class OverridesTests
{
    private static readonly ExportedModel Detector = ExportedModel.All.Single(m => m.Name == "detector");

    [Fact]
    public void Keep_float_fixed_ranges_and_per_tensor_weights_are_applied_and_reported()
    {
        using var folder = new TempFolder();
        var model = Detector.Build();
        var convs = model.Graph.Node.Where(n => n.OpType == "Conv").ToList();
        var keep = convs[1].Name;
        var weight = convs[2].Input[1];
        var rangeTensor = convs[0].Input[0];
        File.WriteAllText(folder.File("o.json"), $$"""
            { "keepFloat": ["{{keep}}"], "tensors": { "{{rangeTensor}}": { "min": -4, "max": 4 }, "{{weight}}": { "perChannel": false } } }
            """);
        var overrides = QuantizationOverrides.Load(folder.File("o.json"));
        var calibration = Detector.Samples(0, 8);
        var result = OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.Static, LatencyGuard = false, Overrides = overrides }, calibration);

        Assert.Contains(result.Report.Nodes, n => n.NodeName == keep && !n.Quantized && n.Detail == "kept float by an override");
        var fixedRange = result.Report.Tensors.Single(t => t.Tensor == rangeTensor);
        Assert.Equal("fixed by an override", fixedRange.Source);
        Assert.Equal(8f / 255, fixedRange.Scale, 6);
        var scales = result.Model.Graph.Initializer.Where(t => t.Name.StartsWith(EmitNameOf(weight), StringComparison.Ordinal) && t.Name.EndsWith("_scale", StringComparison.Ordinal)).ToList();
        Assert.Contains(scales, t => TensorData.ElementCount(t) == 1);
        var otherScales = result.Model.Graph.Initializer.Where(t => t.Name.StartsWith(EmitNameOf(convs[3].Input[1]), StringComparison.Ordinal) && t.Name.EndsWith("_scale", StringComparison.Ordinal)).ToList();
        Assert.Contains(otherScales, t => TensorData.ElementCount(t) > 1);

        OnnxModelFile.Save(model, folder.File("f.onnx"));
        File.WriteAllText(folder.File("typo.json"), """{ "keepFloat": ["no_such_node"], "tensors": { "no_such_tensor": { "min": 0, "max": 1 } } }""");
        var error = new StringWriter();
        Assert.Equal(CliApp.Failure, CliApp.Run(new[] { "quantize", folder.File("f.onnx"), "-o", folder.File("q.onnx"), "--overrides", folder.File("typo.json") }, new StringWriter(), error));
        Assert.Contains("node 'no_such_node'; tensor 'no_such_tensor'", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("q.onnx")));
    }

    [Fact]
    public void Per_tensor_activation_type_and_symmetry_apply_to_the_named_tensor_and_unapplied_overrides_are_reported()
    {
        var model = Detector.Build();
        var relus = model.Graph.Node.Where(n => n.OpType == "Relu").ToList();
        var typed = relus[0].Output[0];
        var foldedAway = relus[1].Input[0];
        var symmetricRelu = relus[2];
        var resized = model.Graph.Node.First(n => n.OpType == "Resize").Output[0];
        var overrides = new QuantizationOverrides
        {
            Tensors = new Dictionary<string, TensorOverride>
            {
                [typed] = new(Type: QuantizedType.Int8),
                [foldedAway] = new(Min: -2, Max: 2),
                [symmetricRelu.Output[0]] = new(Symmetric: true),
                [resized] = new(Min: -8, Max: 8),
            },
        };
        var options = new QuantizationOptions { Mode = QuantizationMode.Static, LatencyGuard = false, Overrides = overrides };
        var result = OnnxQuantizer.Quantize(model, options, Detector.Samples(0, 8));
        var report = result.Report;

        var int8 = report.Tensors.Single(t => t.Tensor == typed);
        Assert.Equal(-128, int8.ZeroPoint);
        var zeroPoint = result.Model.Graph.Initializer.Single(t => t.Name == $"{EmitNameOf(typed)}_zero_point");
        Assert.Equal((int)Onnx.Protos.TensorProto.Types.DataType.Int8, zeroPoint.DataType);
        Assert.Equal(128, report.Tensors.Single(t => t.Tensor == symmetricRelu.Output[0]).ZeroPoint);
        Assert.All(report.Tensors.Where(t => t.Tensor != typed && t.Tensor != symmetricRelu.Output[0] && t.Source == "calibrated" && t.Min >= 0), t => Assert.Equal(0, t.ZeroPoint));
        var own = report.Tensors.Single(t => t.Tensor == resized);
        Assert.Equal("fixed by an override", own.Source);
        Assert.Equal(16f / 255, own.Scale, 6);
        Assert.Contains(report.Nodes, n => n.NodeName == symmetricRelu.Name && !n.Quantized && n.Detail == "symmetric activation ranges cannot stand in for Relu/Clip");
        Assert.Contains(report.Notes, n => n.StartsWith("tensor overrides not applied", StringComparison.Ordinal) && n.Contains(foldedAway, StringComparison.Ordinal) && !n.Contains(typed, StringComparison.Ordinal));

        var held = Detector.Inputs(1, 7100);
        double cosine = Metrics.Cosine(Run(OnnxModelFile.ToBytes(model), held), Run(result.ToBytes(), held));
        Assert.True(cosine >= 0.99, $"cosine {cosine:F5}\n{report}");
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(model, options with { Format = QuantizationFormat.QOperator }, Detector.Samples(0, 2)));
    }

    private static float[] Run(byte[] model, List<NamedOnnxValue> inputs)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>().ToArray();
    }

    private static string EmitNameOf(string tensor) => tensor.Replace(':', '_').Replace('/', '_');
}
