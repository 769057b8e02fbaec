using Sentiment.Common;

namespace TinyLlama.Text;

/// <summary>
/// The built-in text: the project's seeded synthetic movie reviews (see <see cref="SyntheticReviews"/>), one per line —
/// training text from one seed, held-out text from another. Generated here; not a public corpus, so perplexities are
/// only comparable with each other.
/// </summary>
/// <param name="Train">Training text.</param>
/// <param name="HeldOut">Text never trained or calibrated on.</param>
/// <param name="Description">Where the text came from.</param>
public sealed record TextCorpus(string Train, string HeldOut, string Description)
{
    /// <summary>Generates <paramref name="trainReviews"/> training and <paramref name="heldOutReviews"/> held-out reviews.</summary>
    public static TextCorpus Generate(int trainReviews, int heldOutReviews, int seed = 42)
    {
        static string Join(IEnumerable<Review> reviews) => string.Join("\n", reviews.Select(r => r.Text.ToLowerInvariant())) + "\n";
        var train = Join(SyntheticReviews.Generate(trainReviews, seed));
        var heldOut = Join(SyntheticReviews.Generate(heldOutReviews, seed + 1000));
        return new TextCorpus(train, heldOut, $"built-in synthetic reviews ({trainReviews} training / {heldOutReviews} held-out, seeds {seed} / {seed + 1000}; {train.Length:N0} / {heldOut.Length:N0} characters)");
    }
}
