using Sentiment.Common;

namespace MLNet.Quantization.Tests.Imdb;

public class ImdbDataTests
{
    private static void AssertReviews(ReviewDataset data, int train, int test)
    {
        Assert.Equal(train, data.Train.Count);
        Assert.Equal(test, data.Test.Count);
        Assert.Contains(data.Train, r => r.Positive && r.Text == "A wonderful film. Loved it.");
        Assert.Contains(data.Test, r => !r.Positive && r.Text == "Awful, just awful.");
        Assert.False(data.IsSynthetic);
    }

    [Fact]
    public void Reads_an_aclImdb_folder_or_its_parent()
    {
        using var folder = new TempFolder();
        var acl = ImdbFiles.WriteFolder(folder.Path);
        AssertReviews(ImdbReader.Read(acl), 3, 2);
        AssertReviews(ImdbReader.Read(folder.Path), 3, 2);
    }

    [Fact]
    public void Reads_the_tarball_without_extracting_it()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("aclImdb_v1.tar.gz"), ImdbFiles.Tarball());
        AssertReviews(ImdbReader.Read(folder.File("aclImdb_v1.tar.gz")), 3, 2);
        Assert.Empty(Directory.GetDirectories(folder.Path));
    }

    [Fact]
    public void Reads_the_review_sentiment_csv_with_quotes()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("imdb.csv"), ImdbFiles.Csv());
        var data = ImdbReader.Read(folder.File("imdb.csv"));
        Assert.Equal(5, data.Train.Count + data.Test.Count);
        Assert.Contains(data.Train.Concat(data.Test), r => r.Text == "Great acting, \"superb\" score." && r.Positive);
    }

    [Fact]
    public void Bad_data_gets_a_clear_error()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("bad.csv"), "text,label\nfoo,positive\n");
        Assert.Contains("'review' and 'sentiment'", Assert.Throws<InvalidDataException>(() => ImdbReader.Read(folder.File("bad.csv"))).Message);
        var tarball = ImdbFiles.Tarball();
        File.WriteAllBytes(folder.File("cut.tar.gz"), tarball.Take(tarball.Length / 2).ToArray());
        Assert.Contains("truncated or corrupt", Assert.Throws<InvalidDataException>(() => ImdbReader.Read(folder.File("cut.tar.gz"))).Message);
        Directory.CreateDirectory(Path.Combine(folder.Path, "empty", "train", "pos"));
        Assert.Contains("train", Assert.Throws<DirectoryNotFoundException>(() => ImdbReader.Read(Path.Combine(folder.Path, "empty"))).Message);
        Assert.Throws<FileNotFoundException>(() => ImdbReader.Read(folder.File("missing.csv")));
    }

    [Fact]
    public void Synthetic_corpus_is_deterministic_balanced_and_order_sensitive()
    {
        var first = SyntheticReviews.Generate(400, 7);
        Assert.Equal(first, SyntheticReviews.Generate(400, 7));
        Assert.NotEqual(first, SyntheticReviews.Generate(400, 8));
        Assert.Equal(200, first.Count(r => r.Positive));
        Assert.Contains(first, r => r.Text.Contains(" but ", StringComparison.Ordinal));
        Assert.Contains(first, r => r.Text.Contains(" not ", StringComparison.Ordinal));
        Assert.True(SyntheticReviews.Dataset(10, 10).IsSynthetic);
    }
}
