namespace ImdbSentiment.Model;

/// <summary>Sizes of the lab's sentiment transformer.</summary>
/// <param name="Vocabulary">Token ids 0..Vocabulary-1 (0 = padding, 1 = out of vocabulary).</param>
/// <param name="Sequence">Tokens per review (padded or truncated).</param>
/// <param name="Embedding">Embedding width.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="KeyDimension">Width of each head's queries, keys and values.</param>
/// <param name="Hidden">Width of the dense layer before the output.</param>
/// <param name="Dropout">Dropout rate after the dense layer (training only).</param>
public sealed record TransformerConfig(int Vocabulary = 10_000, int Sequence = 256, int Embedding = 64, int Heads = 2, int KeyDimension = 64, int Hidden = 64, float Dropout = 0.2f)
{
    /// <summary>Width of the concatenated heads.</summary>
    public int Projection => Heads * KeyDimension;

    /// <summary>LayerNormalization epsilon.</summary>
    public const float Epsilon = 1e-5f;
}
