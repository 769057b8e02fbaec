namespace TinyLlama.Text;

/// <summary>Characters as token ids: the 128 ASCII codes (anything else becomes '?').</summary>
public static class ByteTokenizer
{
    /// <summary>The number of ids.</summary>
    public const int Vocabulary = 128;

    /// <summary>The ids of <paramref name="text"/>.</summary>
    public static long[] Encode(string text) => text.Select(c => c < Vocabulary ? (long)c : '?').ToArray();

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public static string Decode(IEnumerable<long> ids) => new(ids.Select(id => id is >= 32 and < Vocabulary or 10 ? (char)id : '?').ToArray());
}
