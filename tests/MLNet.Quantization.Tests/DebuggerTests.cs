using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>The per-layer debugger against an independent computation: ONNX Runtime running both models' outputs.</summary>
public class DebuggerTests
{
    private static readonly ExportedModel Crnn = ExportedModel.All.Single(m => m.Name == "crnn");

    [Theory]
    [InlineData(QuantizationFormat.Qdq)]
    [InlineData(QuantizationFormat.QOperator)]
    public void The_output_tensor_error_equals_the_error_measured_on_the_model_outputs(QuantizationFormat format)
    {
        var floatModel = Crnn.Build();
        var quantized = OnnxQuantizer.Quantize(floatModel, new QuantizationOptions { Mode = QuantizationMode.Static, Format = format, LatencyGuard = false }, Crnn.Samples(100, 16)).Model;

        var report = QuantizationDebugger.Compare(floatModel, quantized, Crnn.Samples(5000, 4));

        Assert.Equal(4, report.Samples);
        Assert.True(report.Tensors.Count >= 10, $"{report.Tensors.Count} tensors matched");
        var expected = new List<float>();
        var actual = new List<float>();
        for (int i = 5000; i < 5004; i++)
        {
            expected.AddRange(Run(floatModel, Crnn.Inputs(1, i)));
            actual.AddRange(Run(quantized, Crnn.Inputs(1, i)));
        }
        var output = report.Tensors.Single(t => t.FloatTensor == "probabilities");
        Assert.Equal(Metrics.Cosine(expected.ToArray(), actual.ToArray()), output.Cosine, 6);
        Assert.Equal(expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), output.MaxAbsError, 5);
        Assert.True(output.SqnrDb is > 10 and < 80, $"SQNR {output.SqnrDb}");
        if (format == QuantizationFormat.Qdq)
        {
            var conv = report.Tensors.First(t => t.Producer is "BatchNormalization" or "Conv");
            Assert.Equal(conv.FloatTensor + "_dequantized", conv.QuantizedTensor);
        }
        Assert.Equal(report.Tensors.Min(t => t.SqnrDb), report.Ranked[0].SqnrDb);
    }

    [Fact]
    public void A_model_compared_with_itself_is_exact_everywhere()
    {
        var floatModel = Crnn.Build();
        var report = QuantizationDebugger.Compare(floatModel, floatModel, Crnn.Samples(1, 2));
        Assert.All(report.Tensors, t => Assert.True(double.IsPositiveInfinity(t.SqnrDb) && t.MaxAbsError == 0, t.FloatTensor));
        Assert.Empty(report.Unmatched);
    }

    [Fact]
    public void The_cli_prints_a_ranked_table_and_writes_json_and_a_png_chart()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(Crnn.Build(), folder.File("f.onnx"));
        for (int i = 0; i < 12; i++) TestDataSets.Write(folder.File($"data/test_data_set_{i}"), Crnn.Inputs(1, 300 + i));
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "quantize", folder.File("f.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("data"), "--latency-guard", "false" }, new StringWriter(), new StringWriter()));
        Assert.Equal(0, CliApp.Run(new[] { "debug", folder.File("f.onnx"), folder.File("q.onnx"), "--data", folder.File("data"), "--top", "5" }, output, new StringWriter()));

        Assert.Contains("SQNR dB", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("compared over 12 samples", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"SqnrDb\"", File.ReadAllText(folder.File("q.debug.json")), StringComparison.Ordinal);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(folder.File("q.debug.png")).Take(4));
    }

    [Fact]
    public void Sensitivity_of_a_node_equals_the_error_of_the_model_with_only_that_node_quantized()
    {
        var floatModel = Crnn.Build();
        var nodes = QuantizationDebugger.Sensitivity(floatModel, new QuantizationOptions(), Crnn.Samples(100, 16), Crnn.Samples(6000, 6));

        Assert.Equal(5, nodes.Count);
        Assert.Equal(nodes.OrderBy(n => n.Cosine).Select(n => n.NodeName), nodes.Select(n => n.NodeName));
        Assert.All(nodes, n => Assert.InRange(n.Cosine, 0.9, 0.999999));
        var worst = nodes[0];
        var others = nodes.Skip(1).Select(n => n.NodeName).ToArray();
        var alone = OnnxQuantizer.Quantize(floatModel, new QuantizationOptions { Mode = QuantizationMode.Static, LatencyGuard = false, NodesToExclude = others }, Crnn.Samples(100, 16)).Model;
        var expected = new List<float>();
        var actual = new List<float>();
        for (int i = 6000; i < 6006; i++)
        {
            expected.AddRange(Run(floatModel, Crnn.Inputs(1, i)));
            actual.AddRange(Run(alone, Crnn.Inputs(1, i)));
        }
        Assert.Equal(Metrics.Cosine(expected.ToArray(), actual.ToArray()), worst.Cosine, 6);
    }

    private static float[] Run(OnnxModel model, List<NamedOnnxValue> inputs)
    {
        using var session = new InferenceSession(OnnxModelFile.ToBytes(model));
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>().ToArray();
    }
}
