namespace ImdbSentiment.Pipeline;

/// <summary>A review as ML.NET sees it.</summary>
public sealed class ReviewRow
{
    /// <summary>The review text.</summary>
    public string Text { get; set; } = "";

    /// <summary>True for a positive review.</summary>
    public bool Label { get; set; }
}

/// <summary>One vocabulary term (for MapValueToKey's key data).</summary>
public sealed class VocabularyTerm
{
    /// <summary>The word.</summary>
    public string Term { get; set; } = "";
}
