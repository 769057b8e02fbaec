using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

public class StaticQuantizationTests
{
    private static readonly CnnShape SmallCnn = new(new[] { 8, 16, 32 }, ImageSize: 16);

    private static Dictionary<string, (Array, int[])> ImageInputs(int batch, int size, int seed) =>
        new() { ["image"] = (StaticSamples.Images(batch, size, seed), new[] { batch, 3, size, size }) };

    private static QuantizationResult QuantizeStatic(OnnxModel model, QuantizationFormat format, CalibrationMethod method = CalibrationMethod.MinMax, int size = 16) =>
        OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.Static, Format = format, CalibrationMethod = method, MinimumWeightElements = 0 }, StaticSamples.ImageCalibration(64, size, 1000));

    [Theory]
    [InlineData(QuantizationFormat.Qdq)]
    [InlineData(QuantizationFormat.QOperator)]
    public void Cnn_matches_float_model_in_onnx_runtime(QuantizationFormat format)
    {
        var model = CnnModelBuilder.Build(SmallCnn);
        var result = QuantizeStatic(model, format);
        var inputs = ImageInputs(64, 16, 1);
        var reference = OrtRunner.Run(model, inputs)["logits"];
        var quantized = OrtRunner.Run(result.Model, inputs)["logits"];

        Assert.True(Metrics.Cosine(reference, quantized) >= 0.995, $"cosine {Metrics.Cosine(reference, quantized):F5}\n{result.Report}");
        Assert.True(StaticSamples.Agreement(reference, quantized, 10) >= 0.95, $"agreement {StaticSamples.Agreement(reference, quantized, 10):P1}");
        Assert.DoesNotContain(result.Model.Graph.Node, n => n.OpType is "BatchNormalization" or "Relu");
        Assert.All(result.Report.Tensors, t => Assert.True(t.Scale > 0));
    }
}
