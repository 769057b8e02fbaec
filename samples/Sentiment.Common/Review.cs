namespace Sentiment.Common;

/// <summary>One labelled review.</summary>
/// <param name="Text">The review text.</param>
/// <param name="Positive">True for a positive review.</param>
public sealed record Review(string Text, bool Positive);

/// <summary>A train/test split of reviews and where it came from.</summary>
/// <param name="Train">Training reviews.</param>
/// <param name="Test">Test reviews.</param>
/// <param name="Source">Where the data came from, for messages and reports.</param>
/// <param name="IsSynthetic">True for the built-in generated corpus (figures are then not IMDB's).</param>
public sealed record ReviewDataset(IReadOnlyList<Review> Train, IReadOnlyList<Review> Test, string Source, bool IsSynthetic)
{
    /// <summary>The first <paramref name="train"/> training and <paramref name="test"/> test reviews, balanced by label.</summary>
    public ReviewDataset Take(int train, int test) => this with { Train = Balanced(Train, train), Test = Balanced(Test, test) };

    private static IReadOnlyList<Review> Balanced(IReadOnlyList<Review> reviews, int count)
    {
        if (count >= reviews.Count) return reviews;
        var positive = reviews.Where(r => r.Positive).Take((count + 1) / 2).ToList();
        var negative = reviews.Where(r => !r.Positive).Take(count / 2).ToList();
        var result = new List<Review>(count);
        for (int i = 0; i < Math.Max(positive.Count, negative.Count); i++)
        {
            if (i < positive.Count) result.Add(positive[i]);
            if (i < negative.Count) result.Add(negative[i]);
        }
        return result;
    }
}
