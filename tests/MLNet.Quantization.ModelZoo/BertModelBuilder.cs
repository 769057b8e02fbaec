using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.ModelZoo;

/// <summary>Shape of a BERT encoder.</summary>
public sealed record BertShape(int Vocabulary = 30522, int Hidden = 256, int Layers = 4, int Heads = 4, int FeedForward = 1024, int MaxPositions = 512, int Sequence = 128);

/// <summary>
/// Builds a BERT-shaped float encoder as exporters write it: Gather word/position/token-type embeddings, LayerNorm,
/// MatMul+Add projections, scaled dot-product Softmax attention with an additive mask, Erf GELU, residuals.
/// Weights are random (seeded, BERT's initialization scale); inputs input_ids and attention_mask (int64 [batch, seq]).
/// </summary>
public static class BertModelBuilder
{
    /// <summary>Builds the model.</summary>
    public static OnnxModel Build(BertShape shape, int seed = 7)
    {
        var random = new Random(seed);
        var b = new GraphBuilder("bert", 17);
        int h = shape.Hidden, s = shape.Sequence, headSize = h / shape.Heads;
        var ids = b.Input("input_ids", DataType.Int64, "batch", (long)s);
        var mask = b.Input("attention_mask", DataType.Int64, "batch", (long)s);

        var words = b.Node("Gather", new[] { Weights(b, random, "embeddings.word", shape.Vocabulary, h), ids });
        var positionIds = b.Initializer(TensorData.FromInt64("embeddings.position_ids", new long[] { 1, s }, Enumerable.Range(0, s).Select(i => (long)i).ToArray()));
        var positions = b.Node("Gather", new[] { Weights(b, random, "embeddings.position", shape.MaxPositions, h), positionIds });
        var typeIds = b.Initializer(TensorData.FromInt64("embeddings.token_type_ids", new long[] { 1, s }, new long[s]));
        var types = b.Node("Gather", new[] { Weights(b, random, "embeddings.token_type", 2, h), typeIds });
        var x = LayerNorm(b, "embeddings.norm", b.Node("Add", new[] { b.Node("Add", new[] { words, positions }), types }), h);

        var maskFloat = b.Node("Cast", new[] { mask }, null, OnnxAttribute.Int("to", (long)DataType.Float));
        var inverted = b.Node("Sub", new[] { Scalar(b, "one", 1f), maskFloat });
        var additive = b.Node("Mul", new[] { inverted, Scalar(b, "mask_value", -10000f) });
        var maskAxes = b.Initializer(TensorData.FromInt64("mask_axes", new long[] { 2 }, new long[] { 1, 2 }));
        var mask4d = b.Node("Unsqueeze", new[] { additive, maskAxes });
        var headsShape = b.Initializer(TensorData.FromInt64("heads_shape", new long[] { 4 }, new long[] { 0, s, shape.Heads, headSize }));
        var mergedShape = b.Initializer(TensorData.FromInt64("merged_shape", new long[] { 3 }, new long[] { 0, s, h }));
        var scale = Scalar(b, "attention_scale", 1f / MathF.Sqrt(headSize));

        for (int layer = 0; layer < shape.Layers; layer++)
        {
            var p = $"layer{layer}";
            string Heads(string name, long[] perm) =>
                b.Node("Transpose", new[] { b.Node("Reshape", new[] { Linear(b, random, $"{p}.{name}", x, h, h), headsShape }) }, null, OnnxAttribute.Ints("perm", perm));
            var q = Heads("query", new long[] { 0, 2, 1, 3 });
            var k = Heads("key", new long[] { 0, 2, 3, 1 });
            var v = Heads("value", new long[] { 0, 2, 1, 3 });
            var scores = b.Node("Add", new[] { b.Node("Mul", new[] { b.Node("MatMul", new[] { q, k }), scale }), mask4d });
            var probabilities = b.Node("Softmax", new[] { scores }, null, OnnxAttribute.Int("axis", -1));
            var context = b.Node("Transpose", new[] { b.Node("MatMul", new[] { probabilities, v }) }, null, OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            var merged = b.Node("Reshape", new[] { context, mergedShape });
            var attention = Linear(b, random, $"{p}.attention_output", merged, h, h);
            x = LayerNorm(b, $"{p}.attention_norm", b.Node("Add", new[] { attention, x }), h);
            var intermediate = Gelu(b, Linear(b, random, $"{p}.intermediate", x, h, shape.FeedForward));
            var output = Linear(b, random, $"{p}.output", intermediate, shape.FeedForward, h);
            x = LayerNorm(b, $"{p}.output_norm", b.Node("Add", new[] { output, x }), h);
        }
        b.Node("Identity", new[] { x }, "last_hidden_state");
        b.Output("last_hidden_state", DataType.Float, "batch", (long)s, (long)h);
        return b.Build();
    }

    private static string Weights(GraphBuilder b, Random random, string name, int rows, int columns)
    {
        var values = new float[rows * columns];
        for (int i = 0; i < values.Length; i++) values[i] = Gaussian(random) * 0.02f;
        return b.Initializer(name, new long[] { rows, columns }, values);
    }

    private static string Linear(GraphBuilder b, Random random, string name, string input, int inputs, int outputs)
    {
        var bias = new float[outputs];
        for (int i = 0; i < outputs; i++) bias[i] = Gaussian(random) * 0.02f;
        var product = b.Node("MatMul", new[] { input, Weights(b, random, $"{name}.weight", inputs, outputs) });
        return b.Node("Add", new[] { product, b.Initializer($"{name}.bias", new long[] { outputs }, bias) });
    }

    private static string LayerNorm(GraphBuilder b, string name, string input, int hidden)
    {
        var gamma = b.Initializer($"{name}.gamma", new long[] { hidden }, Enumerable.Repeat(1f, hidden).ToArray());
        var beta = b.Initializer($"{name}.beta", new long[] { hidden }, new float[hidden]);
        return b.Node("LayerNormalization", new[] { input, gamma, beta }, null, OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-12f));
    }

    private static string Gelu(GraphBuilder b, string x)
    {
        var erf = b.Node("Erf", new[] { b.Node("Div", new[] { x, Scalar(b, $"{x}_sqrt2", MathF.Sqrt(2f)) }) });
        var onePlus = b.Node("Add", new[] { erf, Scalar(b, $"{x}_one", 1f) });
        return b.Node("Mul", new[] { b.Node("Mul", new[] { x, onePlus }), Scalar(b, $"{x}_half", 0.5f) });
    }

    private static string Scalar(GraphBuilder b, string name, float value) => b.Initializer(name, Array.Empty<long>(), new[] { value });

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
