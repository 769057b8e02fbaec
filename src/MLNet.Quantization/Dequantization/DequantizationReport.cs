using System.Globalization;

namespace MLNet.Quantization;

/// <summary>What a dequantization replaced and how the weights grew.</summary>
public sealed class DequantizationReport
{
    internal DequantizationReport(IReadOnlyDictionary<string, int> rewritten, long weightBytesBefore, long weightBytesAfter, TimeSpan duration)
    {
        RewrittenNodes = rewritten;
        WeightBytesBefore = weightBytesBefore;
        WeightBytesAfter = weightBytesAfter;
        Duration = duration;
    }

    /// <summary>How many nodes of each quantized operator (or half-precision constants) were replaced by float ones.</summary>
    public IReadOnlyDictionary<string, int> RewrittenNodes { get; }

    /// <summary>Bytes of constant data in the quantized model.</summary>
    public long WeightBytesBefore { get; }

    /// <summary>Bytes of constant data in the dequantized model.</summary>
    public long WeightBytesAfter { get; }

    /// <summary>How long the dequantization took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>A readable summary: the replaced operators and the weight sizes.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Dequantized {RewrittenNodes.Values.Sum()} node(s) in {Duration.TotalMilliseconds:F0} ms: {string.Join(", ", RewrittenNodes.Select(kv => $"{kv.Value} {kv.Key}"))}.{Environment.NewLine}Weights: {WeightBytesBefore / 1024.0:F1} KiB -> {WeightBytesAfter / 1024.0:F1} KiB float.{Environment.NewLine}");
}
