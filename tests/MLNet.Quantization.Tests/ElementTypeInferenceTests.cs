using MLNet.Quantization.Calibration;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Preparation;

namespace MLNet.Quantization.Tests;

/// <summary>The planner's element types come from ONNX's type rules; ONNX Runtime's session is the independent check.</summary>
public class ElementTypeInferenceTests
{
    private static IEnumerable<(string Name, OnnxModel Model, CalibrationData? Data)> FloatModels()
    {
        yield return ("cnn", CnnModelBuilder.Build(new CnnShape(new[] { 4, 8 }, ImageSize: 8)), null);
        yield return ("cnn-opset9", CnnModelBuilder.Build(new CnnShape(new[] { 4, 8 }, ImageSize: 8, Opset: 9, WeightsInConstantNodes: true, Relu6: true, DecomposedNorm: true)), null);
        yield return ("bert", BertModelBuilder.Build(new BertShape(Vocabulary: 200, Hidden: 32, Layers: 1, Heads: 2, FeedForward: 64, MaxPositions: 16, Sequence: 8)), null);
        foreach (var exported in ExportedModel.All) yield return (exported.Name, exported.Build(), exported.Samples(0, 2));
    }

    public static TheoryData<string> Names() => new(FloatModels().Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void Float_values_from_the_type_rules_match_onnx_runtime_on_the_float_and_every_quantized_form(string name)
    {
        var (_, model, data) = FloatModels().Single(m => m.Name == name);
        var forms = new List<(string Form, OnnxModel Model)> { ("float", model) };
        forms.Add(("dynamic", OnnxQuantizer.Quantize(model, new QuantizationOptions { QuantizeConv = true }).Model));
        if (data is not null)
        {
            foreach (var format in new[] { QuantizationFormat.Qdq, QuantizationFormat.QOperator })
                forms.Add((format.ToString(), OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.Static, Format = format, LatencyGuard = false }, data).Model));
        }
        foreach (var (form, candidate) in forms)
        {
            var (_, unknown) = ElementTypeInference.Infer(candidate.Graph);
            Assert.True(unknown.Count == 0, $"{name} {form}: no rule for {string.Join(", ", unknown.Distinct())}");
            var inferred = AugmentedModel.FloatValues(candidate);
            var session = AugmentedModel.FloatValuesFromSession(candidate);
            Assert.True(session.SetEquals(inferred), $"{name} {form}: only ONNX Runtime: {string.Join(", ", session.Except(inferred).Take(5))}; only inferred: {string.Join(", ", inferred.Except(session).Take(5))}");
            Assert.NotEmpty(inferred);
        }
    }

    [Fact]
    public void An_operator_without_a_rule_is_reported_and_the_float_values_come_from_onnx_runtime()
    {
        var b = new GraphBuilder("window", 17);
        var size = b.Input("size", Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64);
        var window = b.Node("HannWindow", new[] { size }, "window");
        b.Node("Relu", new[] { window }, "out");
        b.Output("out", Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, "length");
        var model = b.Build();

        var (types, unknown) = ElementTypeInference.Infer(model.Graph);
        Assert.Equal(new[] { "HannWindow", "Relu" }, unknown);
        Assert.False(types.ContainsKey("out"));
        Assert.Equal(new[] { "out", "window" }, AugmentedModel.FloatValues(model).Order(StringComparer.Ordinal));
    }
}
