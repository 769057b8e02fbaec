using System.Diagnostics;
using System.Globalization;

namespace MLNet.Quantization.Cli;

/// <summary>
/// Progress as plain lines for a redirected stderr: each long stage (calibration, quantizing, converting, writing)
/// every 10 percent with the time left, and each tuning trial.
/// </summary>
internal sealed class StageProgress : IProgress<QuantizationProgress>
{
    private readonly TextWriter _writer;
    private readonly Stopwatch _stageClock = new();
    private string _stage = "";
    private int _lastTenth = -1;

    /// <summary>Creates a reporter writing to <paramref name="writer"/>.</summary>
    public StageProgress(TextWriter writer) => _writer = writer;

    /// <inheritdoc />
    public void Report(QuantizationProgress value)
    {
        if (value.Stage == "Calibrated")
        {
            _writer.WriteLine($"Calibrated on {value.Completed} samples.");
            return;
        }
        if (value.Stage.StartsWith("Tuning", StringComparison.Ordinal))
        {
            _writer.WriteLine($"[{value.Completed}/{value.Total}] {value.Stage}");
            return;
        }
        if (!LiveProgress.LongStages.Contains(value.Stage)) return;
        if (value.Stage != _stage)
        {
            (_stage, _lastTenth) = (value.Stage, -1);
            _stageClock.Restart();
        }
        int tenth = value.Total == 0 ? 10 : value.Completed * 10 / value.Total;
        if (tenth == _lastTenth) return;
        _lastTenth = tenth;
        var done = value.Stage == "Calibrating" ? $"{value.Completed} samples" : $"{value.Completed}/{value.Total}";
        _writer.WriteLine($"{value.Stage}: {done}{TimeLeft(value)}");
    }

    private string TimeLeft(QuantizationProgress value)
    {
        if (value.Completed <= 0 || value.Completed >= value.Total) return "";
        double left = _stageClock.Elapsed.TotalSeconds / value.Completed * (value.Total - value.Completed);
        return string.Create(CultureInfo.InvariantCulture, $", about {(left >= 90 ? $"{left / 60:F0} min" : $"{Math.Ceiling(left):F0} s")} left");
    }
}
