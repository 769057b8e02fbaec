using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace ImdbSentiment.Pipeline;

/// <summary>Input of <see cref="SequenceMapping"/>: the token keys as numbers (0 = not in the vocabulary).</summary>
public sealed class TokenKeys
{
    /// <summary>Key of each token, 1-based; 0 for a word outside the vocabulary.</summary>
    public uint[] KeyNumbers { get; set; } = Array.Empty<uint>();
}

/// <summary>Output of <see cref="SequenceMapping"/>: the model's input.</summary>
public sealed class TokenIds
{
    /// <summary>Token ids padded or truncated to the sequence length: 0 = padding, 1 = out of vocabulary, k + 1 for key k.</summary>
    [VectorType(SequenceMapping.Length)]
    [ColumnName("input_ids")]
    public long[] InputIds { get; set; } = Array.Empty<long>();
}

/// <summary>
/// Turns vocabulary keys into the lab's ids (0 = pad, 1 = out of vocabulary, words from 2) and pads or truncates to
/// 256 tokens. Registered by name so pipelines holding it save and load (register this assembly before loading).
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class SequenceMapping : CustomMappingFactory<TokenKeys, TokenIds>
{
    /// <summary>The name the mapping is saved under.</summary>
    public const string ContractName = "ImdbSentiment.Sequence";

    /// <summary>Tokens per review.</summary>
    public const int Length = 256;

    /// <summary>Maps one row.</summary>
    public static void Map(TokenKeys input, TokenIds output)
    {
        var ids = new long[Length];
        int count = Math.Min(Length, input.KeyNumbers.Length);
        for (int i = 0; i < count; i++) ids[i] = input.KeyNumbers[i] == 0 ? 1 : input.KeyNumbers[i] + 1;
        output.InputIds = ids;
    }

    /// <inheritdoc />
    public override Action<TokenKeys, TokenIds> GetMapping() => Map;
}
