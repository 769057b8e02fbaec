namespace MLNet.Quantization;

/// <summary>Progress of a long quantization step.</summary>
/// <param name="Stage">What is being done.</param>
/// <param name="Completed">Units done so far.</param>
/// <param name="Total">Units in all.</param>
public sealed record QuantizationProgress(string Stage, int Completed, int Total);
