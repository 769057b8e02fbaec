using System.Text.Json;

namespace TinyBert.Encoder;

/// <summary>The fields of a Hugging Face BERT <c>config.json</c> the encoder needs.</summary>
/// <param name="VocabularySize">vocab_size.</param>
/// <param name="HiddenSize">hidden_size.</param>
/// <param name="Layers">num_hidden_layers.</param>
/// <param name="Heads">num_attention_heads.</param>
/// <param name="IntermediateSize">intermediate_size.</param>
/// <param name="MaxPositions">max_position_embeddings.</param>
/// <param name="TypeVocabularySize">type_vocab_size.</param>
/// <param name="LayerNormEpsilon">layer_norm_eps.</param>
public sealed record BertConfig(int VocabularySize = 30522, int HiddenSize = 128, int Layers = 2, int Heads = 2, int IntermediateSize = 512, int MaxPositions = 512, int TypeVocabularySize = 2, float LayerNormEpsilon = 1e-12f)
{
    /// <summary>Width of one attention head.</summary>
    public int HeadSize => HiddenSize / Heads;

    /// <summary>Reads <c>config.json</c>; refuses activations other than exact (erf) GELU.</summary>
    public static BertConfig Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        int Int(string name, int fallback) => root.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        var defaults = new BertConfig();
        if (root.TryGetProperty("hidden_act", out var act) && act.GetString() is { } activation && activation != "gelu")
            throw new InvalidDataException($"'{path}': hidden_act is '{activation}'; this encoder builder writes the exact (erf) GELU only.");
        var config = new BertConfig(
            Int("vocab_size", defaults.VocabularySize), Int("hidden_size", defaults.HiddenSize), Int("num_hidden_layers", defaults.Layers),
            Int("num_attention_heads", defaults.Heads), Int("intermediate_size", defaults.IntermediateSize), Int("max_position_embeddings", defaults.MaxPositions),
            Int("type_vocab_size", defaults.TypeVocabularySize),
            root.TryGetProperty("layer_norm_eps", out var eps) ? eps.GetSingle() : defaults.LayerNormEpsilon);
        if (config.HiddenSize % config.Heads != 0) throw new InvalidDataException($"'{path}': hidden_size {config.HiddenSize} is not divisible by num_attention_heads {config.Heads}.");
        return config;
    }
}
