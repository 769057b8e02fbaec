namespace MLNet.Quantization;

/// <summary>One candidate the tuner built and judged.</summary>
/// <param name="Number">1-based trial number.</param>
/// <param name="Purpose">Why it was tried: "full plan", "calibration method", "sensitivity of NODE", "fallback", "latency guard".</param>
/// <param name="CalibrationMethod">The calibration method of its ranges.</param>
/// <param name="QuantizedNodes">Nodes quantized.</param>
/// <param name="Agreement">Argmax agreement with float on the evaluation data.</param>
/// <param name="Cosine">Output cosine with float on the evaluation data.</param>
/// <param name="Metric">The caller's metric, when one was given.</param>
/// <param name="MeetsTarget">Whether every target was met.</param>
/// <param name="ModelBytes">Serialized size.</param>
/// <param name="LatencyRatio">Latency against float, when measured.</param>
public sealed record TuningTrial(int Number, string Purpose, CalibrationMethod CalibrationMethod, int QuantizedNodes, double Agreement, double Cosine, double? Metric, bool MeetsTarget, long ModelBytes, double? LatencyRatio);
