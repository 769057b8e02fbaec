using MLNet.Quantization.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace TinyBert.Encoder;

/// <summary>
/// Builds a BERT encoder as an ONNX graph (opset 17) from checkpoint weights, shaped like Hugging Face's exporter
/// writes it: inputs input_ids / attention_mask / token_type_ids (int64 [batch, sequence], sequence dynamic);
/// word + position + token-type Gather embeddings and LayerNorm; per layer MatMul+Add Q/K/V, scaled dot-product
/// Softmax attention with the additive mask, output projection + residual + LayerNorm, Erf GELU feed-forward +
/// residual + LayerNorm; outputs last_hidden_state [batch, sequence, hidden] and pooler_output [batch, hidden].
/// </summary>
public static class BertOnnxBuilder
{
    /// <summary>Names of the model's inputs, in order.</summary>
    public static readonly IReadOnlyList<string> InputNames = new[] { "input_ids", "attention_mask", "token_type_ids" };

    /// <summary>Builds the graph.</summary>
    public static OnnxModel Build(BertWeights w)
    {
        var c = w.Config;
        int h = c.HiddenSize;
        var b = new GraphBuilder("bert_encoder", 17);
        var ids = b.Input("input_ids", TensorElementType.Int64, "batch", "sequence");
        var mask = b.Input("attention_mask", TensorElementType.Int64, "batch", "sequence");
        var types = b.Input("token_type_ids", TensorElementType.Int64, "batch", "sequence");

        var sequence = b.Node("Gather", new[] { b.Node("Shape", new[] { ids }), Int64(b, "seq_axis", Array.Empty<long>(), 1) }, null, OnnxAttribute.Int("axis", 0));
        var positionIds = b.Node("Unsqueeze", new[] { b.Node("Range", new[] { Int64(b, "zero", Array.Empty<long>(), 0), sequence, Int64(b, "one", Array.Empty<long>(), 1) }), Int64(b, "batch_axis", new long[] { 1 }, 0) });
        var words = b.Node("Gather", new[] { b.Initializer("embeddings.word_embeddings.weight", new long[] { c.VocabularySize, h }, w.Get("embeddings.word_embeddings.weight", c.VocabularySize, h)), ids });
        var positions = b.Node("Gather", new[] { b.Initializer("embeddings.position_embeddings.weight", new long[] { c.MaxPositions, h }, w.Get("embeddings.position_embeddings.weight", c.MaxPositions, h)), positionIds });
        var tokenTypes = b.Node("Gather", new[] { b.Initializer("embeddings.token_type_embeddings.weight", new long[] { c.TypeVocabularySize, h }, w.Get("embeddings.token_type_embeddings.weight", c.TypeVocabularySize, h)), types });
        var x = LayerNorm(b, w, "embeddings.LayerNorm", b.Node("Add", new[] { b.Node("Add", new[] { words, positions }), tokenTypes }));

        var maskFloat = b.Node("Cast", new[] { mask }, null, OnnxAttribute.Int("to", (long)TensorElementType.Float));
        var additive = b.Node("Mul", new[] { b.Node("Sub", new[] { Scalar(b, "mask_one", 1f), maskFloat }), Scalar(b, "mask_value", -10000f) });
        var mask4d = b.Node("Unsqueeze", new[] { additive, Int64(b, "mask_axes", new long[] { 2 }, 1, 2) });
        var headsShape = Int64(b, "heads_shape", new long[] { 4 }, 0, 0, c.Heads, c.HeadSize);
        var mergedShape = Int64(b, "merged_shape", new long[] { 3 }, 0, 0, h);
        var scale = Scalar(b, "attention_scale", 1f / MathF.Sqrt(c.HeadSize));

        for (int layer = 0; layer < c.Layers; layer++)
        {
            var p = $"encoder.layer.{layer}";
            string Heads(string name, params long[] perm) =>
                b.Node("Transpose", new[] { b.Node("Reshape", new[] { Linear(b, w, $"{p}.attention.self.{name}", x, h, h), headsShape }) }, null, OnnxAttribute.Ints("perm", perm));
            var q = Heads("query", 0, 2, 1, 3);
            var k = Heads("key", 0, 2, 3, 1);
            var v = Heads("value", 0, 2, 1, 3);
            var scores = b.Node("Add", new[] { b.Node("Mul", new[] { b.Node("MatMul", new[] { q, k }), scale }), mask4d });
            var probabilities = b.Node("Softmax", new[] { scores }, null, OnnxAttribute.Int("axis", -1));
            var context = b.Node("Reshape", new[] { b.Node("Transpose", new[] { b.Node("MatMul", new[] { probabilities, v }) }, null, OnnxAttribute.Ints("perm", 0, 2, 1, 3)), mergedShape });
            var attention = Linear(b, w, $"{p}.attention.output.dense", context, h, h);
            x = LayerNorm(b, w, $"{p}.attention.output.LayerNorm", b.Node("Add", new[] { attention, x }));
            var intermediate = Gelu(b, Linear(b, w, $"{p}.intermediate.dense", x, h, c.IntermediateSize));
            var output = Linear(b, w, $"{p}.output.dense", intermediate, c.IntermediateSize, h);
            x = LayerNorm(b, w, $"{p}.output.LayerNorm", b.Node("Add", new[] { output, x }));
        }
        b.Node("Identity", new[] { x }, "last_hidden_state");
        var first = b.Node("Gather", new[] { x, Int64(b, "cls_index", Array.Empty<long>(), 0) }, null, OnnxAttribute.Int("axis", 1));
        b.Node("Tanh", new[] { Linear(b, w, "pooler.dense", first, h, h) }, "pooler_output");
        b.Output("last_hidden_state", TensorElementType.Float, "batch", "sequence", (long)h);
        b.Output("pooler_output", TensorElementType.Float, "batch", (long)h);
        return b.Build();
    }

    private static string Linear(GraphBuilder b, BertWeights w, string name, string input, int inputs, int outputs)
    {
        var (weight, bias) = w.Linear(name, inputs, outputs);
        var product = b.Node("MatMul", new[] { input, b.Initializer($"{name}.weight", new long[] { inputs, outputs }, weight) });
        return b.Node("Add", new[] { product, b.Initializer($"{name}.bias", new long[] { outputs }, bias) });
    }

    private static string LayerNorm(GraphBuilder b, BertWeights w, string name, string input)
    {
        var (gamma, beta) = w.LayerNorm(name);
        int h = w.Config.HiddenSize;
        return b.Node("LayerNormalization", new[] { input, b.Initializer($"{name}.weight", new long[] { h }, gamma), b.Initializer($"{name}.bias", new long[] { h }, beta) },
            null, OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", w.Config.LayerNormEpsilon));
    }

    private static string Gelu(GraphBuilder b, string x)
    {
        var erf = b.Node("Erf", new[] { b.Node("Div", new[] { x, Scalar(b, $"{x}_sqrt2", MathF.Sqrt(2f)) }) });
        return b.Node("Mul", new[] { b.Node("Mul", new[] { x, b.Node("Add", new[] { erf, Scalar(b, $"{x}_one", 1f) }) }), Scalar(b, $"{x}_half", 0.5f) });
    }

    private static string Scalar(GraphBuilder b, string name, float value) => b.Initializer(name, Array.Empty<long>(), new[] { value });

    private static string Int64(GraphBuilder b, string name, long[] dims, params long[] values) => b.Initializer(name, dims, values);
}
