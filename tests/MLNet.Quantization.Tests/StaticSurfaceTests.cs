using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

public class StaticSurfaceTests
{
    private const int Size = 16;
    private static readonly CnnShape SmallCnn = new(new[] { 8, 16, 32 }, ImageSize: Size);

    private sealed class ImageRow
    {
        [VectorType(3 * Size * Size)]
        [ColumnName("image")]
        public float[] Image { get; set; } = Array.Empty<float>();
    }

    private sealed class OtherRow
    {
        [VectorType(3 * Size * Size)]
        [ColumnName("pixels")]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    private sealed class DoubleImageRow
    {
        [VectorType(3 * Size * Size)]
        [ColumnName("image")]
        public double[] Image { get; set; } = Array.Empty<double>();
    }

    private static List<ImageRow> Rows(int count, int seed) =>
        Enumerable.Range(0, count).Select(i => new ImageRow { Image = StaticSamples.Images(1, Size, seed + i) }).ToList();

    private static float[] Logits(ITransformer model, IDataView data) =>
        model.Transform(data).GetColumn<float[]>("logits").SelectMany(v => v).ToArray();

    private static QuantizationOptions Static(QuantizationFormat format = QuantizationFormat.Qdq) =>
        new() { Mode = QuantizationMode.Static, Format = format, MinimumWeightElements = 0, LatencyGuard = false };

    [Theory]
    [InlineData(QuantizationFormat.Qdq)]
    [InlineData(QuantizationFormat.QOperator)]
    public void Fit_calibrates_on_the_data_and_the_model_round_trips(QuantizationFormat format)
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(CnnModelBuilder.Build(SmallCnn), folder.File("cnn.onnx"));
        var ml = new MLContext(seed: 1);
        var training = ml.Data.LoadFromEnumerable(Rows(48, 2000));
        var test = ml.Data.LoadFromEnumerable(Rows(32, 1));

        var floatModel = ml.Transforms.ApplyOnnxModel(folder.File("cnn.onnx")).Fit(training);
        var estimator = ml.Transforms.Quantize(folder.File("cnn.onnx"), Static(format));
        var quantizedModel = estimator.Fit(training);
        var expected = Logits(floatModel, test);
        var actual = Logits(quantizedModel, test);

        Assert.True(Metrics.Cosine(expected, actual) >= 0.995, $"cosine {Metrics.Cosine(expected, actual):F5}");
        Assert.NotEmpty(estimator.Report!.Tensors);
        ml.Model.Save(quantizedModel, test.Schema, folder.File("model.zip"));
        var reloaded = new MLContext().Model.Load(folder.File("model.zip"), out _);
        Assert.Equal(actual, Logits(reloaded, test));
    }

    [Fact]
    public void A_separate_calibration_set_is_used_when_given_and_its_columns_are_checked()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(CnnModelBuilder.Build(SmallCnn), folder.File("cnn.onnx"));
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows(4, 1));
        var calibration = ml.Data.LoadFromEnumerable(Rows(40, 3000));
        var withSeparate = ml.Transforms.Quantize(folder.File("cnn.onnx"), Static() with { CalibrationData = calibration, MaxCalibrationSamples = 40 });
        withSeparate.Fit(data);
        var fromFit = ml.Transforms.Quantize(folder.File("cnn.onnx"), Static());
        fromFit.Fit(data);
        Assert.NotEqual(withSeparate.Report!.Tensors.Select(t => t.Scale), fromFit.Report!.Tensors.Select(t => t.Scale));

        var wrong = ml.Transforms.Quantize(folder.File("cnn.onnx"), Static() with { CalibrationData = ml.Data.LoadFromEnumerable(new[] { new OtherRow { Pixels = new float[3 * Size * Size] } }) });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => wrong.Fit(data));
        Assert.Contains("'image'", error.Message);

        var mistyped = ml.Transforms.Quantize(folder.File("cnn.onnx"), Static() with { CalibrationData = ml.Data.LoadFromEnumerable(new[] { new DoubleImageRow { Image = new double[3 * Size * Size] } }) });
        error = Assert.Throws<ArgumentOutOfRangeException>(() => mistyped.Fit(data));
        Assert.Contains("'image' holds Double", error.Message);
    }

    [Fact]
    public void Cli_quantizes_statically_from_a_test_data_folder()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(CnnModelBuilder.Build(SmallCnn), folder.File("cnn.onnx"));
        for (int i = 0; i < 12; i++)
        {
            var set = Directory.CreateDirectory(Path.Combine(folder.Path, "calibration", $"test_data_set_{i}")).FullName;
            var tensor = TensorData.FromFloats("image", new long[] { 1, 3, Size, Size }, StaticSamples.Images(1, Size, 500 + i));
            File.WriteAllBytes(Path.Combine(set, "input_0.pb"), tensor.ToByteArray());
        }
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(new[]
        {
            "quantize", folder.File("cnn.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", Path.Combine(folder.Path, "calibration"), "--latency-guard", "false",
            "--calibration-method", "percentile", "--percentile", "99.99", "--format", "qoperator", "--min-weight-elements", "0", "--max-calibration-samples", "10",
        }, output, error);

        Assert.True(code == 0, error.ToString());
        Assert.Contains("scale", output.ToString());
        Assert.Contains("Calibrating: 10 samples", error.ToString());
        Assert.Contains(OnnxModelFile.Load(folder.File("q.onnx")).Graph.Node, n => n.OpType == "QLinearConv");

        var missing = CliApp.Run(new[] { "quantize", folder.File("cnn.onnx"), "-o", folder.File("q2.onnx"), "--mode", "static" }, new StringWriter(), error = new StringWriter());
        Assert.Equal(CliApp.BadUsage, missing);
        Assert.Contains("--calibration-data", error.ToString());
        Assert.False(File.Exists(folder.File("q2.onnx")));
    }
}
