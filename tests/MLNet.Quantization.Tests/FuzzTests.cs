using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>The fuzz property of <see cref="ModelFuzzer"/> over 300 mutated models (the benchmark task runs 10,000).</summary>
public class FuzzTests
{
    [Fact]
    public void Mutated_models_fail_cleanly_or_give_a_model_onnx_runtime_loads()
    {
        var bases = new[] { OnnxModelFile.ToBytes(TestModels.Mlp()), OnnxModelFile.ToBytes(TestModels.Opset9WithConstants()), OnnxModelFile.ToBytes(CnnModelBuilder.Build(new CnnShape(new[] { 4, 8 }, ImageSize: 8))) };
        Assert.StartsWith("300 cases: ", ModelFuzzer.Check(bases, 300), StringComparison.Ordinal);
    }
}
