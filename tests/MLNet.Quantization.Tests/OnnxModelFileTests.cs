using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Tests;

public class OnnxModelFileTests
{
    private static readonly Dictionary<string, (Array, int[])> MlpInput = new() { ["x"] = (Metrics.RandomFloats(2 * 64, 200), new[] { 2, 64 }) };

    [Fact]
    public void Save_and_load_round_trips_bytes()
    {
        using var folder = new TempFolder();
        var model = TestModels.Mlp();
        OnnxModelFile.Save(model, folder.File("m.onnx"));
        var loaded = OnnxModelFile.Load(folder.File("m.onnx"));
        Assert.Equal(OnnxModelFile.ToBytes(model), OnnxModelFile.ToBytes(loaded));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void External_data_is_written_aligned_and_runs_in_onnx_runtime()
    {
        using var folder = new TempFolder();
        var model = TestModels.Mlp();
        var path = folder.File("ext.onnx");
        OnnxModelFile.Save(model, path, ExternalDataMode.Always);

        Assert.True(File.Exists(path + ".data"));
        var loaded = OnnxModelFile.Load(path);
        var external = loaded.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External).ToList();
        Assert.NotEmpty(external);
        foreach (var t in external)
            Assert.Equal(0, long.Parse(t.ExternalData.Single(e => e.Key == "offset").Value) % OnnxModelFile.ExternalDataAlignment);

        Assert.Equal(model.ReadFloats(model.Graph.Initializer[0]), loaded.ReadFloats(loaded.Graph.Initializer[0]));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        var expected = OrtRunner.Run(model, MlpInput)["y"];
        var fromFile = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>((float[])MlpInput["x"].Item1, new[] { 2, 64 })) });
        Assert.Equal(expected, fromFile.First().AsTensor<float>().ToArray());
    }

    [Fact]
    public void Model_with_external_data_quantizes_and_can_be_saved_inline()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("ext.onnx"), ExternalDataMode.Always);
        var report = OnnxQuantizer.QuantizeFile(folder.File("ext.onnx"), folder.File("q.onnx"), new QuantizationOptions { MinimumWeightElements = 0 });
        Assert.Equal(2, report.QuantizedNodeCount);
        Assert.False(File.Exists(folder.File("q.onnx.data")));
        var quantized = OrtRunner.Run(File.ReadAllBytes(folder.File("q.onnx")), MlpInput)["y"];
        Assert.True(Metrics.Cosine(OrtRunner.Run(TestModels.Mlp(), MlpInput)["y"], quantized) > 0.999);
    }

    [Fact]
    public void Missing_external_data_file_is_a_clear_error()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("ext.onnx"), ExternalDataMode.Always);
        File.Delete(folder.File("ext.onnx.data"));
        var error = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(folder.File("ext.onnx")));
        Assert.Contains("ext.onnx.data", error.Message);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public void Truncated_external_data_file_is_a_clear_error()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("ext.onnx"), ExternalDataMode.Always);
        using (var stream = File.OpenWrite(folder.File("ext.onnx.data"))) stream.SetLength(100);
        var error = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(folder.File("ext.onnx")));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void External_data_outside_the_model_folder_is_rejected()
    {
        using var folder = new TempFolder();
        var model = TestModels.Mlp();
        var tensor = model.Graph.Initializer[0];
        tensor.RawData = Google.Protobuf.ByteString.Empty;
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
        File.WriteAllBytes(folder.File("escape.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(model.Proto));
        var error = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(folder.File("escape.onnx")));
        Assert.Contains("outside the model's folder", error.Message);
    }

    [Fact]
    public void Bad_files_give_format_errors_naming_the_problem()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("empty.onnx"), Array.Empty<byte>());
        Assert.Contains("empty", Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(folder.File("empty.onnx"))).Message);

        var random = new byte[4096];
        new Random(3).NextBytes(random);
        File.WriteAllBytes(folder.File("random.onnx"), random);
        Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(folder.File("random.onnx")));

        var bytes = OnnxModelFile.ToBytes(TestModels.Mlp());
        File.WriteAllBytes(folder.File("truncated.onnx"), bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(folder.File("truncated.onnx")));
    }

    [Fact]
    public void Missing_initializer_is_named()
    {
        var model = TestModels.Mlp();
        model.Graph.Initializer.RemoveAt(0);
        var error = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(OnnxModelFile.ToBytes(model)));
        Assert.Contains("'w1'", error.Message);
    }

    [Fact]
    public void Unknown_operator_domain_is_named()
    {
        var model = TestModels.Mlp();
        model.Graph.Node[1].Domain = "com.example.custom";
        var error = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Load(OnnxModelFile.ToBytes(model)));
        Assert.Contains("com.example.custom", error.Message);
    }

    [Fact]
    public void Quantize_file_refuses_to_overwrite_its_input()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("m.onnx"));
        var before = File.ReadAllBytes(folder.File("m.onnx"));
        Assert.Throws<ArgumentException>(() => OnnxQuantizer.QuantizeFile(folder.File("m.onnx"), folder.File("m.onnx")));
        Assert.Equal(before, File.ReadAllBytes(folder.File("m.onnx")));
    }
}
