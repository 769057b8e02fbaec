using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

public class CliTests
{
    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Quantize_inspect_and_compare_work_end_to_end()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("float.onnx"));
        var quantize = Run("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--min-weight-elements", "0");
        Assert.True(quantize.Code == 0, quantize.Error);
        Assert.Contains("Quantized 2 of 2", quantize.Output);

        var inspect = Run("inspect", folder.File("q.onnx"));
        Assert.Equal(0, inspect.Code);
        Assert.Contains("dynamic", inspect.Output);
        Assert.Contains("com.microsoft.DynamicQuantizeMatMul", inspect.Output);
        Assert.Contains("none (float model)", Run("inspect", folder.File("float.onnx")).Output);

        var compare = Run("compare", folder.File("float.onnx"), folder.File("q.onnx"), "--runs", "3", "--batch", "4");
        Assert.True(compare.Code == 0, compare.Error);
        var row = compare.Output.Split('\n').First(l => l.StartsWith("y "));
        var cosine = double.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(cosine > 0.999, compare.Output);
        Assert.Contains("ratio", compare.Output);
    }

    [Fact]
    public void Compare_reads_the_onnx_test_data_layout()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("float.onnx"));
        Assert.Equal(0, Run("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--min-weight-elements", "0").Code);
        var set = Directory.CreateDirectory(Path.Combine(folder.Path, "data", "test_data_set_0")).FullName;
        var tensor = TensorData.FromFloats("x", new long[] { 3, 64 }, Metrics.RandomFloats(3 * 64, 300));
        File.WriteAllBytes(Path.Combine(set, "input_0.pb"), Google.Protobuf.MessageExtensions.ToByteArray(tensor));
        var compare = Run("compare", folder.File("float.onnx"), folder.File("q.onnx"), "--data", Path.Combine(folder.Path, "data"), "--runs", "2");
        Assert.True(compare.Code == 0, compare.Error);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("random")]
    [InlineData("truncated")]
    [InlineData("missing-initializer")]
    [InlineData("unknown-domain")]
    [InlineData("missing-external-data")]
    [InlineData("no-such-file")]
    public void Bad_input_fails_with_one_line_and_leaves_no_output(string kind)
    {
        using var folder = new TempFolder();
        var input = folder.File("bad.onnx");
        var model = TestModels.Mlp();
        switch (kind)
        {
            case "empty": File.WriteAllBytes(input, Array.Empty<byte>()); break;
            case "random": var bytes = new byte[2048]; new Random(5).NextBytes(bytes); File.WriteAllBytes(input, bytes); break;
            case "truncated": var full = OnnxModelFile.ToBytes(model); File.WriteAllBytes(input, full.AsSpan(0, full.Length - 700).ToArray()); break;
            case "missing-initializer": model.Graph.Initializer.RemoveAt(2); File.WriteAllBytes(input, OnnxModelFile.ToBytes(model)); break;
            case "unknown-domain": model.Graph.Node[0].Domain = "org.unknown"; File.WriteAllBytes(input, OnnxModelFile.ToBytes(model)); break;
            case "missing-external-data": OnnxModelFile.Save(model, input, ExternalDataMode.Always); File.Delete(input + ".data"); break;
        }
        var before = File.Exists(input) ? File.ReadAllBytes(input) : null;
        var (code, _, error) = Run("quantize", input, "-o", folder.File("out.onnx"));
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error);
        Assert.False(File.Exists(folder.File("out.onnx")));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
        if (before is not null) Assert.Equal(before, File.ReadAllBytes(input));
    }

    [Fact]
    public void Bad_usage_exits_with_two()
    {
        Assert.Equal(2, Run("quantize").Code);
        Assert.Equal(2, Run("quantize", "a.onnx", "-o", "b.onnx", "--weight-type", "int3").Code);
        Assert.Equal(2, Run("frobnicate").Code);
    }

    [Fact]
    public void Compare_on_cuda_without_the_gpu_runtime_names_what_is_missing()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("float.onnx"));
        Assert.Equal(0, Run("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--min-weight-elements", "0").Code);
        var compare = Run("compare", folder.File("float.onnx"), folder.File("q.onnx"), "--device", "cuda", "--runs", "1");
        Assert.Equal(1, compare.Code);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu 1.31.0", compare.Error);
        Assert.Contains("libcublasLt.so.13", compare.Error);
        Assert.Contains("ONNX Runtime said:", compare.Error);
        Assert.Single(compare.Error.Trim().Split('\n'));
    }
}
