using System.Text;

namespace Sentiment.Common;

/// <summary>
/// The built-in corpus used when no IMDB data is at hand: deterministic (seeded) movie reviews built from clauses
/// with negation ("was not good"), intensifiers ("really awful") and contrast ("... but ..."), where the clause after
/// "but" decides more than the one before it — so the label depends on word order, not just on which words occur.
/// These are not IMDB reviews; figures measured on them are not IMDB figures.
/// </summary>
public static class SyntheticReviews
{
    private static readonly string[] Positive = { "good", "great", "excellent", "wonderful", "brilliant", "moving", "funny", "charming", "superb", "enjoyable", "beautiful", "clever", "gripping", "delightful", "fresh" };
    private static readonly string[] Negative = { "bad", "awful", "boring", "terrible", "dull", "weak", "poor", "clumsy", "tedious", "painful", "bland", "messy", "predictable", "forgettable", "flat" };
    private static readonly string[] Aspects = { "plot", "acting", "script", "soundtrack", "ending", "cast", "direction", "dialogue", "pacing", "camera work", "story", "lead actor", "humour", "cinematography", "finale" };
    private static readonly string[] Intensifiers = { "very", "really", "extremely", "incredibly", "truly", "quite" };
    private static readonly string[] Negators = { "not", "never", "hardly" };
    private static readonly string[] Fillers =
    {
        "i saw it last weekend with friends", "the cinema was almost empty", "it runs for about two hours", "i went in knowing nothing about it",
        "my sister recommended it to me", "it is based on a novel", "the trailer gave away a lot", "we watched it at home on a rainy evening",
    };

    /// <summary>Generates <paramref name="count"/> reviews, half positive, in an order that alternates labels.</summary>
    public static IReadOnlyList<Review> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var reviews = new List<Review>(count);
        for (int i = 0; i < count; i++) reviews.Add(Compose(random, positive: i % 2 == 0));
        return reviews;
    }

    /// <summary>A train/test split generated from two seeds, marked as synthetic.</summary>
    public static ReviewDataset Dataset(int train, int test, int seed = 42) =>
        new(Generate(train, seed), Generate(test, seed + 1), $"built-in synthetic corpus ({train} train / {test} test reviews, seed {seed})", true);

    private static Review Compose(Random random, bool positive)
    {
        while (true)
        {
            var text = new StringBuilder();
            double score = 0;
            int sentences = random.Next(2, 5);
            for (int s = 0; s < sentences; s++)
            {
                if (random.NextDouble() < 0.3)
                {
                    Append(text, Fillers[random.Next(Fillers.Length)]);
                    continue;
                }
                var (first, firstScore) = Clause(random);
                if (random.NextDouble() < 0.4)
                {
                    var (second, secondScore) = Clause(random);
                    Append(text, $"{first} but {second}");
                    score += 0.5 * firstScore + 2 * secondScore;
                }
                else
                {
                    Append(text, first);
                    score += firstScore;
                }
            }
            if (score != 0 && score > 0 == positive) return new Review(text.ToString().Trim(), positive);
        }
    }

    private static (string Text, double Score) Clause(Random random)
    {
        bool good = random.Next(2) == 0;
        var adjective = good ? Positive[random.Next(Positive.Length)] : Negative[random.Next(Negative.Length)];
        double score = good ? 1 : -1;
        var words = new List<string> { "the", Aspects[random.Next(Aspects.Length)], random.Next(2) == 0 ? "was" : "is" };
        if (random.NextDouble() < 0.3) { words.Add(Negators[random.Next(Negators.Length)]); score = -score; }
        if (random.NextDouble() < 0.35) { words.Add(Intensifiers[random.Next(Intensifiers.Length)]); score *= 1.5; }
        words.Add(adjective);
        return (string.Join(' ', words), score);
    }

    private static void Append(StringBuilder text, string sentence) => text.Append(char.ToUpperInvariant(sentence[0])).Append(sentence, 1, sentence.Length - 1).Append(". ");
}
