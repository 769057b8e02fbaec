namespace Sentiment.Common;

/// <summary>A one-line text progress bar for downloads, redrawn every 2%.</summary>
public sealed class ConsoleProgressBar : IProgress<DownloadProgress>
{
    private readonly TextWriter _log;
    private int _shown = -1;

    /// <summary>Draws on <paramref name="log"/>.</summary>
    public ConsoleProgressBar(TextWriter log) => _log = log;

    /// <inheritdoc />
    public void Report(DownloadProgress value)
    {
        int percent = value.Total <= 0 ? 0 : (int)Math.Min(100, value.Received * 100 / value.Total);
        if (percent / 2 == _shown / 2 && value.Total > 0) return;
        _shown = percent;
        _log.Write(value.Total > 0
            ? $"\r  [{new string('#', percent / 4),-25}] {percent,3}%  {value.Received / 1e6:F1} / {value.Total / 1e6:F1} MB"
            : $"\r  {value.Received / 1e6:F1} MB");
    }

    /// <summary>Ends the bar's line.</summary>
    public void Finish() => _log.WriteLine();
}
