using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

public class MLNetSurfaceTests
{
    private sealed class Row
    {
        [VectorType(64)]
        [ColumnName("x")]
        public float[] X { get; set; } = Array.Empty<float>();
    }

    private sealed class WrongTypeRow
    {
        [VectorType(64)]
        [ColumnName("x")]
        public double[] X { get; set; } = Array.Empty<double>();
    }

    private sealed class OtherRow
    {
        [VectorType(64)]
        [ColumnName("features")]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    private static readonly QuantizationOptions SmallWeights = new() { MinimumWeightElements = 0 };

    private static List<Row> Rows(int count) => Enumerable.Range(0, count).Select(i => new Row { X = Metrics.RandomFloats(64, 400 + i) }).ToList();

    private static float[][] Scores(MLContext ml, ITransformer model, IDataView data) =>
        model.Transform(data).GetColumn<float[]>("y").ToArray();

    [Fact]
    public void Quantized_pipeline_matches_float_pipeline_and_round_trips_through_save_and_load()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows(20));

        var floatModel = ml.Transforms.ApplyOnnxModel(folder.File("mlp.onnx")).Fit(data);
        var estimator = ml.Transforms.Quantize(folder.File("mlp.onnx"), SmallWeights);
        var quantizedModel = estimator.Fit(data);
        Assert.Equal(2, estimator.Report!.QuantizedNodeCount);

        var expected = Scores(ml, floatModel, data);
        var quantized = Scores(ml, quantizedModel, data);
        Assert.True(Metrics.Cosine(expected.SelectMany(v => v).ToArray(), quantized.SelectMany(v => v).ToArray()) > 0.999);
        Assert.NotEqual(expected.SelectMany(v => v), quantized.SelectMany(v => v));

        var zip = folder.File("model.zip");
        ml.Model.Save(quantizedModel, data.Schema, zip);
        var reloaded = new MLContext().Model.Load(zip, out var schema);
        Assert.Equal(data.Schema.Select(c => (c.Name, c.Type.ToString())), schema.Select(c => (c.Name, c.Type.ToString())));
        Assert.Equal(quantized.SelectMany(v => v), Scores(ml, reloaded, data).SelectMany(v => v));
        Assert.Equal(quantizedModel.GetOutputSchema(data.Schema).Select(c => c.Name), reloaded.GetOutputSchema(data.Schema).Select(c => c.Name));
    }

    [Fact]
    public void Saved_zip_does_not_reference_this_package()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Rows(4));
        var model = ml.Transforms.Quantize(folder.File("mlp.onnx"), SmallWeights).Fit(data);
        ml.Model.Save(model, data.Schema, folder.File("model.zip"));

        using var archive = ZipFile.OpenRead(folder.File("model.zip"));
        foreach (var entry in archive.Entries)
        {
            using var reader = new StreamReader(entry.Open(), System.Text.Encoding.Latin1);
            var text = reader.ReadToEnd();
            Assert.DoesNotContain("MLNet.Quantization, Version", text);
            Assert.DoesNotContain("OnnxQuantizing", text);
        }
        Assert.Contains(archive.Entries, e => e.FullName.Contains("OnnxTransform", StringComparison.OrdinalIgnoreCase) || e.FullName.Contains("TransformerChain"));
    }

    [Fact]
    public void Output_schema_equals_the_float_models()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Rows(4));
        var quantized = ml.Transforms.Quantize(folder.File("mlp.onnx"), SmallWeights).Fit(data).GetOutputSchema(data.Schema);
        var original = ml.Transforms.ApplyOnnxModel(folder.File("mlp.onnx")).Fit(data).GetOutputSchema(data.Schema);
        Assert.Equal(original.Select(c => (c.Name, c.Type.ToString())), quantized.Select(c => (c.Name, c.Type.ToString())));
    }

    [Fact]
    public void Missing_column_throws_argument_out_of_range_naming_it_from_schema_and_fit()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new OtherRow { Features = new float[64] } });
        var estimator = ml.Transforms.Quantize(folder.File("mlp.onnx"), SmallWeights);
        var fromFit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Contains("'x'", fromFit.Message);
        var fromSchema = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(SchemaShapeOf(data.Schema)));
        Assert.Contains("'x'", fromSchema.Message);
        Assert.Null(estimator.Report);
    }

    [Fact]
    public void Mistyped_column_throws_argument_out_of_range()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new WrongTypeRow { X = new double[64] } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Quantize(folder.File("mlp.onnx"), SmallWeights).Fit(data));
        Assert.Contains("x", error.Message);
    }

    [Fact]
    public void Named_column_overload_maps_columns()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(Rows(3));
        using var stream = File.OpenRead(folder.File("mlp.onnx"));
        var model = ml.Transforms.Quantize(new[] { "y" }, new[] { "x" }, stream, SmallWeights).Fit(data);
        Assert.Equal(3, model.Transform(data).GetColumn<float[]>("y").Count());
    }

    [Fact]
    public void Quantization_progress_is_logged_to_mlcontext()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext();
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        ml.Transforms.Quantize(folder.File("mlp.onnx"), SmallWeights).Fit(ml.Data.LoadFromEnumerable(Rows(2)));
        Assert.Contains(messages, m => m.Contains("Quantized 2 of 2 candidate nodes"));
    }

    [Fact]
    public void Bad_arguments_throw_documented_exceptions()
    {
        var ml = new MLContext();
        Assert.Throws<ArgumentNullException>(() => ml.Transforms.Quantize((string)null!));
        Assert.Throws<FileNotFoundException>(() => ml.Transforms.Quantize("does-not-exist.onnx"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Quantize(new MemoryStream(OnnxModelFile.ToBytes(TestModels.Mlp())), new QuantizationOptions { MinimumWeightElements = -1 }));
        Assert.Throws<OnnxFormatException>(() => ml.Transforms.Quantize(new MemoryStream(new byte[] { 1, 2, 3 })));
    }

    /// <summary>ML.NET's own DataViewSchema → SchemaShape conversion (internal to ML.NET, so reached by reflection in tests).</summary>
    private static SchemaShape SchemaShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, new object[] { schema })!;
}
