using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.ModelFiles;

/// <summary>
/// ML.NET model zips in, smaller zips out: a pipeline with a concatenate/normalize step before the ONNX model and a
/// trainer after it, judged by stock ML.NET in a process that does not reference this package.
/// </summary>
public class ModelZipTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private const int Hidden = 512;

    private sealed class Row
    {
        [VectorType(32)] public float[] A { get; set; } = Array.Empty<float>();
        [VectorType(32)] public float[] B { get; set; } = Array.Empty<float>();
        public bool Label { get; set; }
    }

    /// <summary>x[64] → MatMul(64×512) + bias → Relu → MatMul(512×512) → Relu → MatMul(512×16) → y[16]; 1.2 MB of float weights.</summary>
    private static OnnxModel FeatureModel()
    {
        var b = new GraphBuilder("features");
        var x = b.Input("x", DataType.Float, 1L, 64L);
        var h = b.Node("Relu", new[] { b.Node("Add", new[] { b.Node("MatMul", new[] { x, b.Initializer("w1", new long[] { 64, Hidden }, Metrics.RandomFloats(64 * Hidden, 1, 0.2f)) }), b.Initializer("b1", new long[] { Hidden }, Metrics.RandomFloats(Hidden, 2, 0.1f)) }) });
        h = b.Node("Relu", new[] { b.Node("MatMul", new[] { h, b.Initializer("w2", new long[] { Hidden, Hidden }, Metrics.RandomFloats(Hidden * Hidden, 3, 0.08f)) }) });
        b.Node("MatMul", new[] { h, b.Initializer("w3", new long[] { Hidden, 16 }, Metrics.RandomFloats(Hidden * 16, 4, 0.08f)) }, "y");
        b.Output("y", DataType.Float, 1L, 16L);
        return b.Build();
    }

    private static List<Row> Rows(int count, int seed) => Enumerable.Range(0, count).Select(i =>
    {
        var a = Metrics.RandomFloats(32, seed + 2 * i);
        var c = Metrics.RandomFloats(32, seed + 2 * i + 1);
        return new Row { A = a, B = c, Label = a.Take(8).Sum() + c.Take(8).Sum() > 0 };
    }).ToList();

    /// <summary>Trains Concatenate → NormalizeMinMax → ApplyOnnxModel → SDCA logistic regression and saves it as a zip.</summary>
    private static (MLContext Ml, string Zip, IDataView Train) TrainPipeline(TempFolder folder)
    {
        OnnxModelFile.Save(FeatureModel(), folder.File("features.onnx"));
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(Rows(400, 10));
        var pipeline = ml.Transforms.Concatenate("x", "A", "B")
            .Append(ml.Transforms.NormalizeMinMax("x"))
            .Append(ml.Transforms.ApplyOnnxModel(new[] { "y" }, new[] { "x" }, folder.File("features.onnx")))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression("Label", "y"));
        var model = pipeline.Fit(train);
        var zip = folder.File("MLModel.zip");
        ml.Model.Save(model, train.Schema, zip);
        File.Delete(folder.File("features.onnx"));
        return (ml, zip, train);
    }

    private static string LoaderPath()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = output.Name, configuration = output.Parent!.Name;
        var tests = output.Parent.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(tests, "MLNet.Quantization.ZipLoader", "bin", configuration, framework, "MLNet.Quantization.ZipLoader.dll");
    }

    /// <summary>Runs the stock-ML.NET loader on <paramref name="zip"/> and returns the column per row.</summary>
    private static float[] PredictOutOfProcess(string zip, string rows, string column)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { LoaderPath(), zip, rows, column }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var text = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "the loader did not finish");
        Assert.True(process.ExitCode == 0, $"stock ML.NET could not run {zip}: {error}");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
    }

    [Theory]
    [InlineData("dynamic")]
    [InlineData("static")]
    public void A_quantized_zip_loads_with_stock_mlnet_alone_predicts_the_same_and_is_smaller(string mode)
    {
        using var folder = new TempFolder();
        var (ml, zip, train) = TrainPipeline(folder);
        var held = folder.File("held.idv");
        using (var stream = File.Create(held)) ml.Data.SaveAsBinary(ml.Data.LoadFromEnumerable(Rows(300, 5000)), stream);
        var calibration = folder.File("calibration.idv");
        using (var stream = File.Create(calibration)) ml.Data.SaveAsBinary(ml.Data.LoadFromEnumerable(Rows(256, 9000)), stream);
        var before = File.ReadAllBytes(zip);

        var arguments = new List<string> { "quantize", zip, "-o", folder.File("MLModel.int8.zip") };
        if (mode == "static") arguments.AddRange(new[] { "--mode", "static", "--calibration-data", calibration });
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CliApp.Run(arguments.ToArray(), output, error) == CliApp.Success, error.ToString());

        Assert.Equal(before, File.ReadAllBytes(zip));
        double ratio = (double)new FileInfo(zip).Length / new FileInfo(folder.File("MLModel.int8.zip")).Length;
        Assert.True(ratio >= 3.5, $"the zip is only {ratio:F2}x smaller\n{output}");

        var floatProbability = PredictOutOfProcess(zip, held, "Probability");
        var quantizedProbability = PredictOutOfProcess(folder.File("MLModel.int8.zip"), held, "Probability");
        int agree = floatProbability.Zip(quantizedProbability).Count(p => p.First > 0.5 == p.Second > 0.5);
        Assert.True(agree >= 0.99 * floatProbability.Length, $"{agree}/{floatProbability.Length} labels agree\n{output}");
        log.WriteLine($"{mode}: {new FileInfo(zip).Length / 1024.0:F0} KiB -> {new FileInfo(folder.File("MLModel.int8.zip")).Length / 1024.0:F0} KiB ({ratio:F2}x), labels agree {agree}/{floatProbability.Length}, max probability difference {Metrics.MaxAbsDiff(floatProbability, quantizedProbability):F4}");
        log.WriteLine(output.ToString());
        Assert.True(Metrics.MaxAbsDiff(floatProbability, quantizedProbability) < 0.05, $"probabilities differ by up to {Metrics.MaxAbsDiff(floatProbability, quantizedProbability):F4}");

        var inspect = new StringWriter();
        CliApp.Run(new[] { "inspect", folder.File("MLModel.int8.zip") }, inspect, error);
        Assert.Contains("OnnxTransform", inspect.ToString());
        Assert.Contains(mode == "static" ? "QDQ" : "dynamic", inspect.ToString(), StringComparison.OrdinalIgnoreCase);
        _ = train;
    }

    [Fact]
    public void The_library_quantizes_a_fitted_transformer_and_dequantize_restores_float_predictions()
    {
        using var folder = new TempFolder();
        var (ml, zip, train) = TrainPipeline(folder);
        var model = ml.Model.Load(zip, out var schema);
        var evaluation = ml.Data.LoadFromEnumerable(Rows(200, 7000));
        var quantized = ml.Model.Quantize(model, schema, new QuantizationOptions { Mode = QuantizationMode.Static }, ml.Data.LoadFromEnumerable(Rows(64, 9100)));
        float[] Probabilities(ITransformer t) => t.Transform(evaluation).GetColumn<float>("Probability").ToArray();
        var expected = Probabilities(model);
        var actual = Probabilities(quantized);
        Assert.True(expected.Zip(actual).Count(p => p.First > 0.5 == p.Second > 0.5) >= 0.99 * expected.Length);
        Assert.Equal(schema.Select(c => c.Name), schema.Select(c => c.Name));
        Assert.Equal(model.GetOutputSchema(schema).Select(c => (c.Name, c.Type.ToString())), quantized.GetOutputSchema(schema).Select(c => (c.Name, c.Type.ToString())));

        ml.Model.Save(quantized, schema, folder.File("q.zip"));
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(CliApp.Run(new[] { "dequantize", folder.File("q.zip"), "-o", folder.File("float-again.zip") }, output, error) == CliApp.Success, error.ToString());
        var restored = ml.Model.Load(folder.File("float-again.zip"), out _);
        var inspect = new StringWriter();
        CliApp.Run(new[] { "inspect", folder.File("float-again.zip") }, inspect, error);
        Assert.Contains("quantization: none", inspect.ToString());
        Assert.True(Metrics.MaxAbsDiff(expected, Probabilities(restored)) < 0.05);
        _ = train;
    }

    private sealed class Doubled
    {
        [VectorType(16)] public float[] Twice { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void A_pipeline_part_that_cannot_be_rebuilt_is_named()
    {
        using var folder = new TempFolder();
        var (ml, zip, train) = TrainPipeline(folder);
        var model = ml.Model.Load(zip, out var schema);
        var scored = model.Transform(train);
        var mapping = ml.Transforms.CustomMapping<ScoreInput, Doubled>((input, output) => output.Twice = input.y.Select(v => 2 * v).ToArray(), contractName: null).Fit(scored);
        var chain = new TransformerChain<ITransformer>(model, mapping);
        var error = Assert.Throws<NotSupportedException>(() => ml.Model.Quantize(chain, schema));
        Assert.Contains("CustomMapping", error.Message);
    }

    private sealed class ScoreInput
    {
        [VectorType(16)] public float[] y { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void Bad_zips_and_calibration_files_give_one_clear_error_and_write_nothing()
    {
        using var folder = new TempFolder();
        var (ml, zip, _) = TrainPipeline(folder);
        File.WriteAllBytes(folder.File("not-a-zip.zip"), Enumerable.Range(0, 300).Select(i => (byte)i).ToArray());
        var bytes = File.ReadAllBytes(zip);
        File.WriteAllBytes(folder.File("truncated.zip"), bytes[..(bytes.Length / 2)]);
        var train = ml.Data.LoadFromEnumerable(Rows(50, 1));
        ml.Model.Save(ml.Transforms.Concatenate("x", "A", "B").Fit(train), train.Schema, folder.File("no-onnx.zip"));
        File.WriteAllText(folder.File("missing.csv"), "a0,a1\n1,2\n");

        (string[] Arguments, string Message)[] cases =
        {
            (new[] { "quantize", folder.File("not-a-zip.zip"), "-o", folder.File("out.zip") }, "not a zip"),
            (new[] { "quantize", folder.File("truncated.zip"), "-o", folder.File("out.zip") }, "not a readable zip"),
            (new[] { "quantize", folder.File("no-onnx.zip"), "-o", folder.File("out.zip") }, "without ONNX models"),
            (new[] { "quantize", zip, "-o", folder.File("out.zip"), "--mode", "static", "--calibration-data", folder.File("missing.csv") }, "fields per row"),
        };
        foreach (var (arguments, message) in cases)
        {
            var error = new StringWriter();
            Assert.Equal(CliApp.Failure, CliApp.Run(arguments, new StringWriter(), error));
            Assert.Contains(message, error.ToString());
            Assert.Single(error.ToString().Trim().Split('\n'));
            Assert.False(File.Exists(folder.File("out.zip")), string.Join(" ", arguments));
            Assert.Empty(Directory.GetFileSystemEntries(folder.Path, ".*"));
        }
        Assert.Equal(bytes, File.ReadAllBytes(zip));
    }
}
