namespace Sentiment.Common;

/// <summary>Where a sample's reviews come from: <c>--data PATH</c>, <c>--download</c>, or the built-in synthetic corpus.</summary>
public static class ReviewDataSource
{
    /// <summary>The official tarball of the Large Movie Review Dataset.</summary>
    public static readonly Uri ImdbTarball = new("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz");

    /// <summary>Size in bytes of <see cref="ImdbTarball"/>.</summary>
    public const long ImdbTarballSize = 84_125_825;

    /// <summary>
    /// Loads reviews: from <paramref name="dataPath"/> when given; else downloads the official tarball (cached) when
    /// <paramref name="download"/>; else generates the synthetic corpus and says so in <paramref name="log"/>.
    /// </summary>
    public static async Task<ReviewDataset> LoadAsync(string? dataPath, bool download, int syntheticTrain, int syntheticTest, int seed, TextWriter log, CachedDownloader? downloader = null, Uri? source = null, long? expectedSize = null, string? cacheFolder = null)
    {
        if (dataPath is not null)
        {
            log.WriteLine($"Reading IMDB reviews from {dataPath} ...");
            return ImdbReader.Read(dataPath);
        }
        if (download)
        {
            var url = source ?? ImdbTarball;
            var folder = cacheFolder ?? CachedDownloader.DefaultCacheFolder();
            log.WriteLine($"Downloading {url} into {folder} (cached after the first time) ...");
            var progress = new ConsoleProgressBar(log);
            var path = await (downloader ?? new CachedDownloader()).DownloadAsync(url, expectedSize ?? ImdbTarballSize, folder, progress).ConfigureAwait(false);
            progress.Finish();
            return ImdbReader.ReadTarball(path);
        }
        log.WriteLine("No --data and no --download: using the built-in SYNTHETIC corpus. Its figures are not IMDB figures.");
        log.WriteLine("  (Pass --data PATH to an aclImdb folder, aclImdb_v1.tar.gz or a review,sentiment CSV, or --download to fetch IMDB.)");
        return SyntheticReviews.Dataset(syntheticTrain, syntheticTest, seed);
    }
}
