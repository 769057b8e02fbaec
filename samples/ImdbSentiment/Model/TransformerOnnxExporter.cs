using MLNet.Quantization.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ImdbSentiment.Model;

/// <summary>
/// Writes the trained network as an ONNX graph (opset 17) with the project's graph builder, in the shape exporters
/// produce: Gather token embeddings + Gather position embeddings (over constant position ids, as BERT exporters
/// write them) → LayerNormalization → MatMul+Add projections → Reshape/Transpose heads → scaled
/// MatMul → Softmax → MatMul → merge heads → output MatMul+Add → ReduceMean over the sequence → MatMul+Add → Relu →
/// MatMul+Add → Sigmoid. Input "input_ids" (int64 [batch, sequence]); output "probability" (float [batch, 1]).
/// </summary>
public static class TransformerOnnxExporter
{
    /// <summary>The model input's name.</summary>
    public const string InputName = "input_ids";

    /// <summary>The model output's name.</summary>
    public const string OutputName = "probability";

    /// <summary>Builds the ONNX model from the weights.</summary>
    public static OnnxModel Export(TransformerParameters p)
    {
        var c = p.Config;
        int l = c.Sequence, d = c.Embedding, pw = c.Projection, dk = c.KeyDimension;
        var b = new GraphBuilder("sentiment_transformer", 17);
        var ids = b.Input(InputName, TensorElementType.Int64, "batch", (long)l);

        var tokens = b.Node("Gather", new[] { b.Initializer("embedding", new long[] { c.Vocabulary, d }, p.Embedding), ids });
        var positionIds = b.Initializer("position_ids", new long[] { 1, l }, Enumerable.Range(0, l).Select(i => (long)i).ToArray());
        var positions = b.Node("Gather", new[] { b.Initializer("position_embedding", new long[] { l, d }, p.Position), positionIds });
        var embedded = b.Node("Add", new[] { tokens, positions });
        var normalized = b.Node("LayerNormalization", new[] { embedded, b.Initializer("norm.gamma", new long[] { d }, p.Gamma), b.Initializer("norm.beta", new long[] { d }, p.Beta) },
            null, OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", TransformerConfig.Epsilon));
        string Linear(string input, string name, float[] weight, float[] bias, int inputs, int outputs) =>
            b.Node("Add", new[] { b.Node("MatMul", new[] { input, b.Initializer($"{name}.weight", new long[] { inputs, outputs }, weight) }), b.Initializer($"{name}.bias", new long[] { outputs }, bias) });

        var headsShape = b.Initializer("heads_shape", new long[] { 4 }, new long[] { 0, l, c.Heads, dk });
        string Heads(string projected, params long[] perm) => b.Node("Transpose", new[] { b.Node("Reshape", new[] { projected, headsShape }) }, null, OnnxAttribute.Ints("perm", perm));
        var query = Heads(Linear(normalized, "attention.query", p.Query, p.QueryBias, d, pw), 0, 2, 1, 3);
        var keyTransposed = Heads(Linear(normalized, "attention.key", p.Key, p.KeyBias, d, pw), 0, 2, 3, 1);
        var value = Heads(Linear(normalized, "attention.value", p.Value, p.ValueBias, d, pw), 0, 2, 1, 3);
        var scale = b.Initializer("attention.scale", Array.Empty<long>(), new[] { 1f / MathF.Sqrt(dk) });
        var scores = b.Node("Mul", new[] { b.Node("MatMul", new[] { query, keyTransposed }), scale });
        var weights = b.Node("Softmax", new[] { scores }, null, OnnxAttribute.Int("axis", -1));
        var context = b.Node("Transpose", new[] { b.Node("MatMul", new[] { weights, value }) }, null, OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        var merged = b.Node("Reshape", new[] { context, b.Initializer("merged_shape", new long[] { 3 }, new long[] { 0, l, pw }) });
        var attended = Linear(merged, "attention.output", p.Output, p.OutputBias, pw, d);

        var pooled = b.Node("ReduceMean", new[] { attended }, null, OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));
        var hidden = b.Node("Relu", new[] { Linear(pooled, "dense", p.Dense, p.DenseBias, d, c.Hidden) });
        var logit = Linear(hidden, "classifier", p.Classifier, p.ClassifierBias, c.Hidden, 1);
        b.Node("Sigmoid", new[] { logit }, OutputName);
        b.Output(OutputName, TensorElementType.Float, "batch", 1L);
        return b.Build();
    }
}
