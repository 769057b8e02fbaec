using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace MLNet.Quantization.Tests.TinyBert;

/// <summary>A small random BERT checkpoint folder (config.json + model.safetensors) written byte by byte for the tests.</summary>
internal sealed class BertCheckpoint
{
    public const int Vocabulary = 60, Hidden = 16, Layers = 2, Heads = 2, Intermediate = 32, Positions = 128, Types = 2;

    public Dictionary<string, (long[] Shape, float[] Values)> Tensors { get; } = new(StringComparer.Ordinal);

    public BertCheckpoint(int seed, string prefix = "")
    {
        var random = new Random(seed);
        void Add(string name, params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            bool isGamma = name.EndsWith("LayerNorm.weight", StringComparison.Ordinal);
            for (int i = 0; i < values.Length; i++) values[i] = isGamma ? 1f + (float)(random.NextDouble() - 0.5) * 0.2f : (float)(random.NextDouble() * 2 - 1) * 0.3f;
            Tensors[prefix + name] = (shape, values);
        }
        Add("embeddings.word_embeddings.weight", Vocabulary, Hidden);
        Add("embeddings.position_embeddings.weight", Positions, Hidden);
        Add("embeddings.token_type_embeddings.weight", Types, Hidden);
        Add("embeddings.LayerNorm.weight", Hidden);
        Add("embeddings.LayerNorm.bias", Hidden);
        for (int l = 0; l < Layers; l++)
        {
            var p = $"encoder.layer.{l}";
            foreach (var name in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" }) { Add($"{p}.{name}.weight", Hidden, Hidden); Add($"{p}.{name}.bias", Hidden); }
            Add($"{p}.attention.output.LayerNorm.weight", Hidden); Add($"{p}.attention.output.LayerNorm.bias", Hidden);
            Add($"{p}.intermediate.dense.weight", Intermediate, Hidden); Add($"{p}.intermediate.dense.bias", Intermediate);
            Add($"{p}.output.dense.weight", Hidden, Intermediate); Add($"{p}.output.dense.bias", Hidden);
            Add($"{p}.output.LayerNorm.weight", Hidden); Add($"{p}.output.LayerNorm.bias", Hidden);
        }
        Add("pooler.dense.weight", Hidden, Hidden);
        Add("pooler.dense.bias", Hidden);
    }

    public float[] this[string name] => Tensors[name].Values;

    /// <summary>Writes config.json and model.safetensors (F32) into <paramref name="folder"/>.</summary>
    public void Write(string folder)
    {
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["vocab_size"] = Vocabulary, ["hidden_size"] = Hidden, ["num_hidden_layers"] = Layers, ["num_attention_heads"] = Heads,
            ["intermediate_size"] = Intermediate, ["max_position_embeddings"] = Positions, ["type_vocab_size"] = Types,
            ["layer_norm_eps"] = 1e-12, ["hidden_act"] = "gelu", ["model_type"] = "bert",
        }));
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), Safetensors(Tensors.ToDictionary(kv => kv.Key, kv => (kv.Value.Shape, "F32", kv.Value.Values.SelectMany(BitConverter.GetBytes).ToArray()))));
    }

    /// <summary>The safetensors bytes for raw tensors: 8-byte header length, JSON header, data.</summary>
    public static byte[] Safetensors(Dictionary<string, (long[] Shape, string Dtype, byte[] Data)> tensors)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, (shape, dtype, data)) in tensors)
        {
            header[name] = new Dictionary<string, object> { ["dtype"] = dtype, ["shape"] = shape, ["data_offsets"] = new[] { offset, offset + data.Length } };
            offset += data.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var bytes = new byte[8 + json.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        long position = 8 + json.Length;
        foreach (var (_, (_, _, data)) in tensors) { data.CopyTo(bytes, position); position += data.Length; }
        return bytes;
    }
}
