namespace Sentiment.Common;

/// <summary>Bytes received so far and the total expected.</summary>
/// <param name="Received">Bytes received.</param>
/// <param name="Total">Bytes expected.</param>
public readonly record struct DownloadProgress(long Received, long Total);

/// <summary>
/// Fetches a file once into a cache folder: streamed to a temporary file, size checked against the expected size
/// (or the server's Content-Length when none is known), then moved into place. A cached file of the right size is
/// reused without any request; a short download is an error and leaves nothing behind.
/// </summary>
public sealed class CachedDownloader
{
    private readonly HttpClient _http;

    /// <summary>Creates a downloader using <paramref name="http"/> (a default client when null).</summary>
    public CachedDownloader(HttpClient? http = null) => _http = http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(30) };

    /// <summary>The user's cache folder for this project (XDG_CACHE_HOME or ~/.cache, LocalApplicationData on Windows).</summary>
    public static string DefaultCacheFolder()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "mlnet-quantization");
    }

    /// <summary>
    /// Downloads <paramref name="source"/> into <paramref name="cacheFolder"/> unless already there; returns the file's
    /// path. With no <paramref name="expectedSize"/>, any cached copy is reused and the server's Content-Length is checked.
    /// </summary>
    public async Task<string> DownloadAsync(Uri source, long? expectedSize, string cacheFolder, IProgress<DownloadProgress>? progress = null, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(cacheFolder);
        var destination = Path.Combine(cacheFolder, Path.GetFileName(source.LocalPath));
        if (File.Exists(destination) && (expectedSize is null || new FileInfo(destination).Length == expectedSize)) return destination;

        var temporary = destination + $".{Guid.NewGuid():N}.part";
        try
        {
            using var response = await _http.GetAsync(source, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"Downloading {source} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
            long expected = expectedSize ?? response.Content.Headers.ContentLength ?? -1;
            long received = 0;
            await using (var input = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false))
            await using (var output = File.Create(temporary))
            {
                var buffer = new byte[81920];
                int read;
                long nextReport = 0;
                try
                {
                    while ((read = await input.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
                    {
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                        received += read;
                        if (received >= nextReport) { progress?.Report(new DownloadProgress(received, expected)); nextReport = received + Math.Max(1, expected / 100); }
                    }
                }
                catch (IOException e)
                {
                    throw new InvalidDataException($"The download of {source} broke off after {received:N0} of {expected:N0} bytes ({e.Message}). Run again to retry.", e);
                }
            }
            progress?.Report(new DownloadProgress(received, expected));
            if (expected >= 0 && received != expected)
                throw new InvalidDataException($"The download of {source} is {received:N0} bytes, not the expected {expected:N0}: it is truncated or not the official file. Nothing was cached; run again to retry.");
            File.Move(temporary, destination, overwrite: true);
            return destination;
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
