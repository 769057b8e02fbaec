using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace TinyLlama.Model;

/// <summary>
/// Builds the decoder as an ONNX graph (opset 17) shaped like a Llama export with a key/value cache: inputs
/// <c>input_ids</c> (int64 [batch, sequence]) and <c>past_key_values.N.key/value</c> (float [batch, kvHeads, past,
/// headSize], past 0 for a prompt); outputs <c>logits</c> [batch, sequence, vocabulary] and
/// <c>present.N.key/value</c> (the cache with this call's positions appended). Positions start at the cache length;
/// RMSNorm is decomposed (Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul), rotary cos/sin tables are gathered by
/// position, grouped-query attention broadcasts each key/value head over its group, and the causal mask is computed.
/// </summary>
public static class LlamaOnnxBuilder
{
    /// <summary>The cache input name of layer <paramref name="layer"/> ("key" or "value").</summary>
    public static string PastName(int layer, string kind) => $"past_key_values.{layer}.{kind}";

    /// <summary>The cache output name of layer <paramref name="layer"/> ("key" or "value").</summary>
    public static string PresentName(int layer, string kind) => $"present.{layer}.{kind}";

    /// <summary>Builds the graph from Hugging Face-named tensors (Linear weights [out, in]).</summary>
    public static OnnxModel Build(LlamaConfig c, IReadOnlyDictionary<string, float[]> w)
    {
        c.Validate();
        int h = c.Hidden, size = c.HeadSize, half = size / 2, kvWidth = c.KeyValueHeads * size;
        var b = new GraphBuilder("tiny_llama", 17);
        var ids = b.Input("input_ids", TensorElementType.Int64, "batch", "sequence");
        for (int layer = 0; layer < c.Layers; layer++)
        {
            b.Input(PastName(layer, "key"), TensorElementType.Float, "batch", (long)c.KeyValueHeads, "past", (long)size);
            b.Input(PastName(layer, "value"), TensorElementType.Float, "batch", (long)c.KeyValueHeads, "past", (long)size);
        }
        var zero = Int64(b, "zero", 0);
        var one = Int64(b, "one", 1);
        var past = b.Node("Gather", new[] { b.Node("Shape", new[] { PastName(0, "key") }), Int64(b, "past_axis", 2) }, "past_length", OnnxAttribute.Int("axis", 0));
        var sequence = b.Node("Gather", new[] { b.Node("Shape", new[] { ids }), Int64(b, "sequence_axis", 1) }, "sequence_length", OnnxAttribute.Int("axis", 0));
        var total = b.Node("Add", new[] { past, sequence }, "total_length");
        var positions = b.Node("Range", new[] { past, total, one }, "position_ids");
        var (cosTable, sinTable) = c.RotaryTables();
        var cos = b.Node("Gather", new[] { b.Initializer("rotary.cos_cached", new long[] { c.MaxPositions, half }, cosTable), positions }, "rotary_cos");
        var sin = b.Node("Gather", new[] { b.Initializer("rotary.sin_cached", new long[] { c.MaxPositions, half }, sinTable), positions }, "rotary_sin");
        var keyPositions = b.Node("Range", new[] { zero, total, one }, "key_positions");
        var future = b.Node("Greater", new[] { Unsqueeze(b, keyPositions, 0), Unsqueeze(b, positions, 1) }, "future_keys");
        var mask = b.Node("Where", new[] { future, Scalar(b, "mask_value", -1e9f), Scalar(b, "mask_zero", 0f) }, "causal_mask");
        var attentionScale = Scalar(b, "attention_scale", 1f / MathF.Sqrt(size));

        var x = b.Node("Gather", new[] { b.Initializer("model.embed_tokens.weight", new long[] { c.Vocabulary, h }, w["model.embed_tokens.weight"]), ids }, "inputs_embeds");
        var headsShape = Int64(b, "q_shape", new long[] { 4 }, 0, 0, c.Heads, size);
        var kvShape = Int64(b, "kv_shape", new long[] { 4 }, 0, 0, c.KeyValueHeads, size);
        var groupShape = Int64(b, "group_shape", new long[] { 5 }, 0, c.KeyValueHeads, c.GroupSize, -1, size);
        var mergedHeads = Int64(b, "merged_heads_shape", new long[] { 4 }, 0, c.Heads, -1, size);
        var mergedShape = Int64(b, "merged_shape", new long[] { 3 }, 0, 0, h);
        for (int layer = 0; layer < c.Layers; layer++)
        {
            string p = $"model.layers.{layer}";
            var normed = RmsNorm(b, x, w[$"{p}.input_layernorm.weight"], $"{p}.input_layernorm", c.NormEpsilon);
            string Project(string input, string name, int inputs, int outputs) =>
                b.Node("MatMul", new[] { input, b.Initializer($"{p}.{name}.weight", new long[] { inputs, outputs }, Transposed(w[$"{p}.{name}.weight"], outputs, inputs)) }, null);
            string Split(string projected, string shape) => b.Node("Transpose", new[] { b.Node("Reshape", new[] { projected, shape }) }, null, OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            var q = Rotary(b, Split(Project(normed, "self_attn.q_proj", h, h), headsShape), cos, sin, half, size);
            var k = Rotary(b, Split(Project(normed, "self_attn.k_proj", h, kvWidth), kvShape), cos, sin, half, size);
            var v = Split(Project(normed, "self_attn.v_proj", h, kvWidth), kvShape);
            var keys = b.Node("Concat", new[] { PastName(layer, "key"), k }, PresentName(layer, "key"), OnnxAttribute.Int("axis", 2));
            var values = b.Node("Concat", new[] { PastName(layer, "value"), v }, PresentName(layer, "value"), OnnxAttribute.Int("axis", 2));
            var grouped = b.Node("Reshape", new[] { q, groupShape });
            var keys5 = b.Node("Transpose", new[] { Unsqueeze(b, keys, 2) }, null, OnnxAttribute.Ints("perm", 0, 1, 2, 4, 3));
            var scores = b.Node("Add", new[] { b.Node("Mul", new[] { b.Node("MatMul", new[] { grouped, keys5 }), attentionScale }), mask });
            var context = b.Node("MatMul", new[] { b.Node("Softmax", new[] { scores }, null, OnnxAttribute.Int("axis", -1)), Unsqueeze(b, values, 2) });
            var merged = b.Node("Reshape", new[] { b.Node("Transpose", new[] { b.Node("Reshape", new[] { context, mergedHeads }) }, null, OnnxAttribute.Ints("perm", 0, 2, 1, 3)), mergedShape });
            x = b.Node("Add", new[] { x, Project(merged, "self_attn.o_proj", h, h) });
            var normed2 = RmsNorm(b, x, w[$"{p}.post_attention_layernorm.weight"], $"{p}.post_attention_layernorm", c.NormEpsilon);
            var gate = Project(normed2, "mlp.gate_proj", h, c.Intermediate);
            var silu = b.Node("Mul", new[] { gate, b.Node("Sigmoid", new[] { gate }) });
            x = b.Node("Add", new[] { x, Project(b.Node("Mul", new[] { silu, Project(normed2, "mlp.up_proj", h, c.Intermediate) }), "mlp.down_proj", c.Intermediate, h) });
        }
        var final = RmsNorm(b, x, w["model.norm.weight"], "model.norm", c.NormEpsilon);
        b.Node("MatMul", new[] { final, b.Initializer("lm_head.weight", new long[] { h, c.Vocabulary }, Transposed(w["lm_head.weight"], c.Vocabulary, h)) }, "logits");
        b.Output("logits", TensorElementType.Float, "batch", "sequence", (long)c.Vocabulary);
        for (int layer = 0; layer < c.Layers; layer++)
        {
            b.Output(PresentName(layer, "key"), TensorElementType.Float, "batch", (long)c.KeyValueHeads, "total", (long)size);
            b.Output(PresentName(layer, "value"), TensorElementType.Float, "batch", (long)c.KeyValueHeads, "total", (long)size);
        }
        return b.Build();
    }

    private static string RmsNorm(GraphBuilder b, string x, float[] gain, string name, float epsilon)
    {
        var meanSquare = b.Node("ReduceMean", new[] { b.Node("Pow", new[] { x, Scalar(b, $"{name}.two", 2f) }) }, null, OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1));
        var inverse = b.Node("Reciprocal", new[] { b.Node("Sqrt", new[] { b.Node("Add", new[] { meanSquare, Scalar(b, $"{name}.epsilon", epsilon) }) }) });
        return b.Node("Mul", new[] { b.Node("Mul", new[] { x, inverse }), b.Initializer($"{name}.weight", new long[] { gain.Length }, gain) });
    }

    /// <summary>x [batch, heads, sequence, size] with cos/sin [sequence, size/2]: (x₁·cos − x₂·sin, x₂·cos + x₁·sin).</summary>
    private static string Rotary(GraphBuilder b, string x, string cos, string sin, int half, int size)
    {
        var axes = Int64(b, "last_axis", new long[] { 1 }, -1);
        var x1 = b.Node("Slice", new[] { x, Int64(b, "slice_0", new long[] { 1 }, 0), Int64(b, "slice_half", new long[] { 1 }, half), axes });
        var x2 = b.Node("Slice", new[] { x, Int64(b, "slice_half", new long[] { 1 }, half), Int64(b, "slice_end", new long[] { 1 }, size), axes });
        var first = b.Node("Sub", new[] { b.Node("Mul", new[] { x1, cos }), b.Node("Mul", new[] { x2, sin }) });
        var second = b.Node("Add", new[] { b.Node("Mul", new[] { x2, cos }), b.Node("Mul", new[] { x1, sin }) });
        return b.Node("Concat", new[] { first, second }, null, OnnxAttribute.Int("axis", -1));
    }

    private static string Unsqueeze(GraphBuilder b, string x, long axis) => b.Node("Unsqueeze", new[] { x, Int64(b, $"axis_{axis}", new long[] { 1 }, axis) });

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GraphBuilder, HashSet<string>> Declared = new();

    /// <summary>An int64 constant, declared once per name.</summary>
    private static string Int64(GraphBuilder b, string name, long[] dims, params long[] values)
    {
        var names = Declared.GetOrCreateValue(b);
        return names.Add(name) ? b.Initializer(name, dims, values) : name;
    }

    private static string Int64(GraphBuilder b, string name, long value) => Int64(b, name, Array.Empty<long>(), value);

    private static string Scalar(GraphBuilder b, string name, float value)
    {
        var names = Declared.GetOrCreateValue(b);
        return names.Add(name) ? b.Initializer(name, Array.Empty<long>(), new[] { value }) : name;
    }

    /// <summary>[rows, columns] row-major → [columns, rows].</summary>
    private static float[] Transposed(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < columns; col++) result[col * rows + r] = values[r * columns + col];
        return result;
    }
}
