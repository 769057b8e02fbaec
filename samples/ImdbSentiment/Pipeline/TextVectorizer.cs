using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;

namespace ImdbSentiment.Pipeline;

/// <summary>
/// The lab's vectorization in ML.NET: NormalizeText (lower case, no punctuation) → TokenizeIntoWords →
/// MapValueToKey over the most frequent words → ids padded to 256 (0 = pad, 1 = out of vocabulary).
/// ML.NET has no frequency-ranked key limit, so the ranking is counted here over the tokenized training text and
/// handed to MapValueToKey as its key data.
/// </summary>
public static class TextVectorizer
{
    /// <summary>Fits the vectorizer on <paramref name="training"/>; <paramref name="vocabulary"/> counts the two reserved ids.</summary>
    public static ITransformer Fit(MLContext ml, IDataView training, int vocabulary)
    {
        var tokenize = ml.Transforms.Text.NormalizeText("Normalized", nameof(ReviewRow.Text), TextNormalizingEstimator.CaseMode.Lower, keepDiacritics: false, keepPunctuations: false, keepNumbers: true)
            .Append(ml.Transforms.Text.TokenizeIntoWords("Tokens", "Normalized"));
        var tokenizer = tokenize.Fit(training);
        var terms = MostFrequent(tokenizer.Transform(training), vocabulary - 2);
        var keyData = ml.Data.LoadFromEnumerable(terms.Select(t => new VocabularyTerm { Term = t }));
        var rest = ml.Transforms.Conversion.MapValueToKey("Keys", "Tokens", keyData: keyData)
            .Append(ml.Transforms.Conversion.ConvertType("KeyNumbers", "Keys", DataKind.UInt32))
            .Append(ml.Transforms.CustomMapping(new SequenceMapping().GetMapping(), SequenceMapping.ContractName));
        return tokenizer.Append(rest.Fit(tokenizer.Transform(training)));
    }

    /// <summary>The <paramref name="count"/> most frequent tokens, ties broken alphabetically.</summary>
    public static List<string> MostFrequent(IDataView tokenized, int count)
    {
        var frequencies = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var tokens in tokenized.GetColumn<VBuffer<ReadOnlyMemory<char>>>("Tokens"))
        {
            foreach (var token in tokens.DenseValues())
            {
                var word = token.ToString();
                if (word.Length > 0) frequencies[word] = frequencies.GetValueOrDefault(word) + 1;
            }
        }
        return frequencies.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(count).Select(kv => kv.Key).ToList();
    }
}
