using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ImdbSentiment.Model;

/// <summary>
/// Writes the trained network as an ONNX graph (opset 17) with the project's graph builder, from the module's
/// state_dict, in the shape exporters produce: Gather token embeddings + position embeddings (over constant position
/// ids, as BERT exporters write them) → LayerNormalization → MatMul+Add projections → Reshape/Transpose heads →
/// scaled MatMul → Softmax → MatMul → merge heads → output MatMul+Add → ReduceMean over the sequence → MatMul+Add →
/// Relu → MatMul+Add → Sigmoid. Input "input_ids" (int64 [batch, sequence]); output "probability" (float [batch, 1]).
/// </summary>
public static class TransformerOnnxExporter
{
    /// <summary>The model input's name.</summary>
    public const string InputName = "input_ids";

    /// <summary>The model output's name.</summary>
    public const string OutputName = "probability";

    /// <summary>The ONNX name of an integer product's input activation.</summary>
    public static string TensorName(ProductInput input) => input switch
    {
        ProductInput.Normalized => "normalized",
        ProductInput.Query => "query_heads",
        ProductInput.KeyTransposed => "key_heads_transposed",
        ProductInput.Value => "value_heads",
        ProductInput.AttentionWeights => "attention_weights",
        ProductInput.Context => "context",
        ProductInput.Pooled => "pooled",
        _ => "hidden",
    };

    /// <summary>Builds the ONNX model from the network's state_dict.</summary>
    public static OnnxModel Export(SentimentNetwork network)
    {
        var c = network.Config;
        var state = network.state_dict();
        float[] Values(string name, bool transpose = false)
        {
            using var scope = torch.NewDisposeScope();
            var tensor = state[name].detach().cpu();
            return (transpose ? tensor.t() : tensor).contiguous().data<float>().ToArray();
        }
        int l = c.Sequence, d = c.Embedding, pw = c.Projection, dk = c.KeyDimension;
        var b = new GraphBuilder("sentiment_transformer", 17);
        var ids = b.Input(InputName, TensorElementType.Int64, "batch", (long)l);

        var tokens = b.Node("Gather", new[] { b.Initializer("embedding", new long[] { c.Vocabulary, d }, Values("token.weight")), ids });
        var positionIds = b.Initializer("position_ids", new long[] { 1, l }, Enumerable.Range(0, l).Select(i => (long)i).ToArray());
        var positions = b.Node("Gather", new[] { b.Initializer("position_embedding", new long[] { l, d }, Values("position")), positionIds });
        var embedded = b.Node("Add", new[] { tokens, positions });
        var normalized = b.Node("LayerNormalization", new[] { embedded, b.Initializer("norm.gamma", new long[] { d }, Values("norm.weight")), b.Initializer("norm.beta", new long[] { d }, Values("norm.bias")) },
            TensorName(ProductInput.Normalized), OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", TransformerConfig.Epsilon));
        string Linear(string input, string name, string module, int inputs, int outputs, string? output = null) =>
            b.Node("Add", new[] { b.Node("MatMul", new[] { input, b.Initializer($"{name}.weight", new long[] { inputs, outputs }, Values($"{module}.weight", transpose: true)) }), b.Initializer($"{name}.bias", new long[] { outputs }, Values($"{module}.bias")) }, output);

        var headsShape = b.Initializer("heads_shape", new long[] { 4 }, new long[] { 0, l, c.Heads, dk });
        string Heads(string projected, string name, params long[] perm) => b.Node("Transpose", new[] { b.Node("Reshape", new[] { projected, headsShape }) }, name, OnnxAttribute.Ints("perm", perm));
        var query = Heads(Linear(normalized, "attention.query", "query", d, pw), TensorName(ProductInput.Query), 0, 2, 1, 3);
        var keyTransposed = Heads(Linear(normalized, "attention.key", "key", d, pw), TensorName(ProductInput.KeyTransposed), 0, 2, 3, 1);
        var value = Heads(Linear(normalized, "attention.value", "value", d, pw), TensorName(ProductInput.Value), 0, 2, 1, 3);
        var scale = b.Initializer("attention.scale", Array.Empty<long>(), new[] { 1f / MathF.Sqrt(dk) });
        var scores = b.Node("Mul", new[] { b.Node("MatMul", new[] { query, keyTransposed }), scale });
        var weights = b.Node("Softmax", new[] { scores }, TensorName(ProductInput.AttentionWeights), OnnxAttribute.Int("axis", -1));
        var merged = b.Node("Transpose", new[] { b.Node("MatMul", new[] { weights, value }) }, null, OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        var context = b.Node("Reshape", new[] { merged, b.Initializer("merged_shape", new long[] { 3 }, new long[] { 0, l, pw }) }, TensorName(ProductInput.Context));
        var attended = Linear(context, "attention.output", "output", pw, d);

        var pooled = b.Node("ReduceMean", new[] { attended }, TensorName(ProductInput.Pooled), OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));
        var hidden = b.Node("Relu", new[] { Linear(pooled, "dense", "dense", d, c.Hidden) }, TensorName(ProductInput.Hidden));
        var logit = Linear(hidden, "classifier", "classifier", c.Hidden, 1);
        b.Node("Sigmoid", new[] { logit }, OutputName);
        b.Output(OutputName, TensorElementType.Float, "batch", 1L);
        return b.Build();
    }
}
