namespace MLNet.Quantization.Cli;

/// <summary>Progress as plain lines for a redirected stderr: calibration every 10 percent and each tuning trial.</summary>
internal sealed class StageProgress : IProgress<QuantizationProgress>
{
    private readonly TextWriter _writer;
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
        if (value.Stage != "Calibrating") return;
        int tenth = value.Total == 0 ? 10 : value.Completed * 10 / value.Total;
        if (value.Stage == _stage && tenth == _lastTenth) return;
        (_stage, _lastTenth) = (value.Stage, tenth);
        _writer.WriteLine($"{value.Stage}: {value.Completed} samples");
    }
}
