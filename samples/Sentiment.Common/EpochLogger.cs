namespace Sentiment.Common;

/// <summary>Writes one line per training epoch, as it ends (synchronously, in order).</summary>
public sealed class EpochLogger : IProgress<EpochResult>
{
    private readonly TextWriter _log;

    /// <summary>Writes to <paramref name="log"/>.</summary>
    public EpochLogger(TextWriter log) => _log = log;

    /// <inheritdoc />
    public void Report(EpochResult value) =>
        _log.WriteLine($"  epoch {value.Epoch}: loss {value.Loss:F4}, training accuracy {value.Accuracy:P1} ({value.Elapsed.TotalSeconds:F0} s)");
}
