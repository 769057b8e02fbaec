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

    private static string EmitNameOf(string tensor) => tensor.Replace(':', '_').Replace('/', '_');
}
