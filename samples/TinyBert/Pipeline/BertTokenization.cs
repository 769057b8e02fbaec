using Microsoft.ML.Data;
using Microsoft.ML.Tokenizers;
using Microsoft.ML.Transforms;
using TinyBert.Training;

namespace TinyBert.Pipeline;

/// <summary>A labelled text as ML.NET sees it.</summary>
public sealed class LabelledText
{
    /// <summary>The text.</summary>
    public string Text { get; set; } = "";

    /// <summary>True for a positive review.</summary>
    public bool Label { get; set; }
}

/// <summary>Input of the tokenizing mapping.</summary>
public sealed class TextColumn
{
    /// <summary>The text.</summary>
    public string Text { get; set; } = "";
}

/// <summary>The encoder's three inputs, 128 tokens each.</summary>
public sealed class EncoderInputs
{
    /// <summary>[CLS] word pieces [SEP], then [PAD].</summary>
    [VectorType(BertTokenization.Length)]
    [ColumnName("input_ids")]
    public long[] InputIds { get; set; } = Array.Empty<long>();

    /// <summary>1 for real tokens, 0 for padding.</summary>
    [VectorType(BertTokenization.Length)]
    [ColumnName("attention_mask")]
    public long[] AttentionMask { get; set; } = Array.Empty<long>();

    /// <summary>All 0: one segment.</summary>
    [VectorType(BertTokenization.Length)]
    [ColumnName("token_type_ids")]
    public long[] TokenTypeIds { get; set; } = Array.Empty<long>();
}

/// <summary>
/// Tokenizes text with Microsoft.ML.Tokenizers' BertTokenizer (lower case, from vocab.txt) inside the ML.NET
/// pipeline: [CLS] … [SEP], truncated and padded to 128 tokens. The tokenizer is set once per process through
/// <see cref="Tokenizer"/> (also before loading a saved pipeline, with the assembly registered).
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class BertTokenization : CustomMappingFactory<TextColumn, EncoderInputs>
{
    /// <summary>The name the mapping is saved under.</summary>
    public const string ContractName = "TinyBert.Tokenize";

    /// <summary>Tokens per text.</summary>
    public const int Length = 128;

    /// <summary>The tokenizer every pipeline of this process uses.</summary>
    public static BertTokenizer? Tokenizer { get; set; }

    /// <summary>Creates the lower-casing tokenizer for <paramref name="vocabularyPath"/> and makes it current.</summary>
    public static BertTokenizer Use(string vocabularyPath) =>
        Tokenizer = BertTokenizer.Create(vocabularyPath, new BertOptions { LowerCaseBeforeTokenization = true });

    /// <summary>Token ids ([CLS] … [SEP], padded) and the count of real tokens.</summary>
    public static BertSample Encode(BertTokenizer tokenizer, string text)
    {
        var pieces = tokenizer.EncodeToIds(text);
        var ids = new int[Length];
        int count = Math.Min(pieces.Count, Length);
        for (int i = 0; i < count; i++) ids[i] = pieces[i];
        if (pieces.Count > Length) ids[Length - 1] = tokenizer.SeparatorTokenId;
        for (int i = count; i < Length; i++) ids[i] = tokenizer.PaddingTokenId;
        return new BertSample(ids, count);
    }

    /// <summary>Maps one row.</summary>
    public static void Map(TextColumn input, EncoderInputs output)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException("Set BertTokenization.Tokenizer (BertTokenization.Use(vocab.txt)) before running a pipeline that tokenizes.");
        var sample = Encode(tokenizer, input.Text);
        output.InputIds = sample.Ids.Select(i => (long)i).ToArray();
        output.AttentionMask = Enumerable.Range(0, Length).Select(i => i < sample.Length ? 1L : 0L).ToArray();
        output.TokenTypeIds = new long[Length];
    }

    /// <inheritdoc />
    public override Action<TextColumn, EncoderInputs> GetMapping() => Map;
}
