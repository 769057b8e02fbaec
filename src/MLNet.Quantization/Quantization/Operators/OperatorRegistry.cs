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

    /// <summary>The quantizer for a default-domain operator type, or null if none exists.</summary>
    public static IOperatorQuantizer? Find(string opType) => Quantizers.GetValueOrDefault(opType);
}
