namespace Sentiment.Common;

/// <summary>Where a sample's reviews come from: <c>--data PATH</c>, <c>--download</c>, or the built-in synthetic corpus.</summary>
public static class ReviewDataSource
{
    /// <summary>
    /// Loads reviews: from <paramref name="dataPath"/> when given; else downloads the official tarball (cached) when
    /// <paramref name="download"/>; else generates the synthetic corpus and says so in <paramref name="log"/>.
    /// </summary>
    public static async Task<ReviewDataset> LoadAsync(string? dataPath, bool download, int syntheticTrain, int syntheticTest, int seed, TextWriter log, ImdbDownloader? downloader = null, Uri? source = null, long? expectedSize = null, string? cacheFolder = null)
    {
        if (dataPath is not null)
        {
            log.WriteLine($"Reading IMDB reviews from {dataPath} ...");
            return ImdbReader.Read(dataPath);
        }
        if (download)
        {
            var url = source ?? ImdbDownloader.OfficialTarball;
            var folder = cacheFolder ?? ImdbDownloader.DefaultCacheFolder();
            log.WriteLine($"Downloading {url} into {folder} (cached after the first time) ...");
            var progress = new ConsoleBar(log);
            var path = await (downloader ?? new ImdbDownloader()).DownloadAsync(url, expectedSize ?? ImdbDownloader.OfficialTarballSize, folder, progress).ConfigureAwait(false);
            progress.Finish();
            return ImdbReader.ReadTarball(path);
        }
        log.WriteLine("No --data and no --download: using the built-in SYNTHETIC corpus. Its figures are not IMDB figures.");
        log.WriteLine("  (Pass --data PATH to an aclImdb folder, aclImdb_v1.tar.gz or a review,sentiment CSV, or --download to fetch IMDB.)");
        return SyntheticReviews.Dataset(syntheticTrain, syntheticTest, seed);
    }

    /// <summary>A text progress bar that redraws every 2%.</summary>
    private sealed class ConsoleBar : IProgress<DownloadProgress>
    {
        private readonly TextWriter _log;
        private int _shown = -1;

        public ConsoleBar(TextWriter log) => _log = log;

        public void Report(DownloadProgress value)
        {
            int percent = value.Total <= 0 ? 0 : (int)Math.Min(100, value.Received * 100 / value.Total);
            if (percent / 2 == _shown / 2) return;
            _shown = percent;
            _log.Write($"\r  [{new string('#', percent / 4),-25}] {percent,3}%  {value.Received / 1e6:F1} / {value.Total / 1e6:F1} MB");
        }

        public void Finish() => _log.WriteLine();
    }
}
