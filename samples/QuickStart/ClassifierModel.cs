using Microsoft.ML.Data;
using MLNet.Quantization.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Samples.QuickStart;

/// <summary>One input row: 512 features.</summary>
public sealed class FeatureRow
{
    /// <summary>The features, named as the model's input.</summary>
    [VectorType(512)]
    [ColumnName("features")]
    public float[] Features { get; set; } = Array.Empty<float>();
}

/// <summary>A small float MLP classifier built with the project's graph builder.</summary>
public static class ClassifierModel
{
    /// <summary>features[batch,512] → Gemm 1024 → Relu → MatMul+Add 1024 → Relu → MatMul+Add 10 → Softmax → scores.</summary>
    public static OnnxModel Build(int seed = 42)
    {
        var random = new Random(seed);
        var b = new GraphBuilder("quickstart-classifier");
        var x = b.Input("features", TensorElementType.Float, "batch", 512L);
        var h1 = b.Node("Relu", new[] { b.Node("Gemm", new[] { x, Weights(b, random, "w1", 512, 1024), Bias(b, random, "b1", 1024) }) });
        var h2 = b.Node("Relu", new[] { b.Node("Add", new[] { b.Node("MatMul", new[] { h1, Weights(b, random, "w2", 1024, 1024) }), Bias(b, random, "b2", 1024) }) });
        var logits = b.Node("Add", new[] { b.Node("MatMul", new[] { h2, Weights(b, random, "w3", 1024, 10) }), Bias(b, random, "b3", 10) });
        b.Node("Softmax", new[] { logits }, "scores", OnnxAttribute.Int("axis", -1));
        b.Output("scores", TensorElementType.Float, "batch", 10L);
        return b.Build();
    }

    /// <summary>Random feature rows.</summary>
    public static IEnumerable<FeatureRow> Rows(int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
            yield return new FeatureRow { Features = Enumerable.Range(0, 512).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray() };
    }

    private static string Weights(GraphBuilder b, Random random, string name, int rows, int columns)
    {
        float scale = MathF.Sqrt(6f / (rows + columns));
        return b.Initializer(name, new long[] { rows, columns }, Enumerable.Range(0, rows * columns).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray());
    }

    private static string Bias(GraphBuilder b, Random random, string name, int size) =>
        b.Initializer(name, new long[] { size }, Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray());
}
