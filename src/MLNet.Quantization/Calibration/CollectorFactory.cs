namespace MLNet.Quantization.Calibration;

/// <summary>Creates the range collector the options ask for.</summary>
internal static class CollectorFactory
{
    /// <summary>A new collector for one tensor.</summary>
    public static IRangeCollector Create(QuantizationOptions options) => options.CalibrationMethod switch
    {
        CalibrationMethod.MinMax => new MinMaxCollector(options.MovingAverageConstant),
        CalibrationMethod.Percentile => new PercentileCollector(options.Percentile, options.SymmetricActivations),
        CalibrationMethod.Entropy => new EntropyCollector(),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.CalibrationMethod, "Unknown calibration method."),
    };
}
