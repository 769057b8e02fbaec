using Microsoft.ML;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>
/// ML.NET writes models given as bytes to a temp file with a random extension; "ort" makes ONNX Runtime read the
/// ONNX protobuf as an ORT-format model. These tests reproduce that failure on purpose and check the retry.
/// </summary>
public class RandomTempNameRetryTests
{
    [Fact]
    public void An_onnx_model_in_a_file_named_dot_ort_fails_as_the_retry_expects()
    {
        using var folder = new TempFolder();
        var path = folder.File("abcdefgh.ort");
        OnnxModelFile.Save(CnnModelBuilder.Build(new CnnShape(new[] { 4 }, ImageSize: 8)), path);
        var error = Assert.ThrowsAny<Exception>(() => new MLContext().Transforms.ApplyOnnxModel(path));
        Assert.True(RandomTempNameRetry.IsOrtFormatMisread(error), error.ToString());
    }

    [Fact]
    public void The_retry_runs_again_only_on_the_ort_misread_and_gives_up_after_a_few_tries()
    {
        int calls = 0;
        Assert.Equal(42, RandomTempNameRetry.Run(() => ++calls < 3 ? throw new InvalidOperationException("x", new Exception("ORT model verification failed.")) : 42));
        Assert.Equal(3, calls);

        calls = 0;
        Assert.Throws<InvalidOperationException>(() => RandomTempNameRetry.Run<int>(() => { calls++; throw new InvalidOperationException("Invalid model"); }));
        Assert.Equal(1, calls);

        calls = 0;
        Assert.Throws<InvalidOperationException>(() => RandomTempNameRetry.Run<int>(() => { calls++; throw new InvalidOperationException("ORT model verification failed."); }));
        Assert.Equal(4, calls);
    }
}
