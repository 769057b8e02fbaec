namespace MLNet.Quantization.Operators;

/// <summary>The one table of operator quantizers, keyed by ONNX operator type.</summary>
internal static class OperatorRegistry
{
    private static readonly Dictionary<string, IOperatorQuantizer> Quantizers = new IOperatorQuantizer[]
    {
        new MatMulQuantizer(),
        new GemmQuantizer(),
        new GatherQuantizer(),
        new LstmQuantizer(),
        new ConvQuantizer(),
    }.ToDictionary(q => q.OpType, StringComparer.Ordinal);

    /// <summary>
    /// Supported but not quantized unless asked for: ONNX Runtime's CPU ConvInteger is several times slower than
    /// float Conv (<see cref="QuantizationOptions.QuantizeConv"/> turns it on).
    /// </summary>
    private static readonly HashSet<string> OffByDefault = new(StringComparer.Ordinal) { "Conv" };

    /// <summary>Every operator type dynamic mode can quantize, in registration order.</summary>
    public static IReadOnlyList<string> SupportedOpTypes { get; } = Quantizers.Keys.ToArray();

    /// <summary>The operator types dynamic mode quantizes when the caller names none.</summary>
    public static IReadOnlyList<string> DefaultOpTypes { get; } = Quantizers.Keys.Where(op => !OffByDefault.Contains(op)).ToArray();

    /// <summary>The quantizer for a default-domain operator type, or null if none exists.</summary>
    public static IOperatorQuantizer? Find(string opType) => Quantizers.GetValueOrDefault(opType);
}
