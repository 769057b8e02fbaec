using System.Net;
using System.Net.Sockets;
using Sentiment.Common;

namespace MLNet.Quantization.Tests.Imdb;

public sealed class ImdbDownloadTests
{
    /// <summary>A loopback HTTP server answering every request with <paramref name="body"/> (optionally cut short).</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public LoopbackServer(byte[] body, int? cutAfter = null)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = new Uri($"http://127.0.0.1:{port}/aclImdb_v1.tar.gz");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); }
                    catch (Exception) { return; }
                    Interlocked.Increment(ref Requests);
                    context.Response.ContentLength64 = body.Length;
                    try
                    {
                        await context.Response.OutputStream.WriteAsync(body.AsMemory(0, cutAfter ?? body.Length));
                        if (cutAfter is null) context.Response.Close();
                        else context.Response.Abort();
                    }
                    catch (Exception)
                    {
                        context.Response.Abort();
                    }
                }
            });
        }

        public Uri Url { get; }

        public int Requests;

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }

    private sealed class Recorder : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = new();

        public void Report(DownloadProgress value) { lock (Reports) Reports.Add(value); }
    }

    [Fact]
    public async Task Downloads_with_progress_checks_the_size_and_reuses_the_cache()
    {
        var tarball = ImdbFiles.Tarball();
        using var server = new LoopbackServer(tarball);
        using var cache = new TempFolder();
        var progress = new Recorder();
        var path = await new CachedDownloader().DownloadAsync(server.Url, tarball.Length, cache.Path, progress);

        Assert.Equal(tarball, File.ReadAllBytes(path));
        Assert.Equal(new DownloadProgress(tarball.Length, tarball.Length), progress.Reports[^1]);
        Assert.Equal(3, ImdbReader.Read(path).Train.Count);

        var again = await new CachedDownloader().DownloadAsync(server.Url, tarball.Length, cache.Path);
        Assert.Equal(path, again);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_truncated_download_is_an_error_and_nothing_is_cached()
    {
        var tarball = ImdbFiles.Tarball();
        using var server = new LoopbackServer(tarball, cutAfter: tarball.Length / 2);
        using var cache = new TempFolder();
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new CachedDownloader().DownloadAsync(server.Url, tarball.Length, cache.Path));
        Assert.Contains("of", error.Message);
        Assert.Empty(Directory.GetFiles(cache.Path));
    }

    [Fact]
    public async Task A_file_of_the_wrong_size_is_refused()
    {
        var tarball = ImdbFiles.Tarball();
        using var server = new LoopbackServer(tarball);
        using var cache = new TempFolder();
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new CachedDownloader().DownloadAsync(server.Url, tarball.Length + 10, cache.Path));
        Assert.Contains("not the expected", error.Message);
        Assert.Empty(Directory.GetFiles(cache.Path));
    }
}
