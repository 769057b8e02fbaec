using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Cli;

/// <summary>What <c>inspect</c> reports about a model.</summary>
internal sealed record ModelSummary(string Format, IReadOnlyDictionary<string, int> OperatorCounts, IReadOnlyDictionary<string, long> WeightBytes)
{
    private static readonly HashSet<string> QOperatorOps = new(StringComparer.Ordinal)
    {
        "QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearMul", "QLinearConcat", "QLinearSoftmax",
        "QLinearSigmoid", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearLeakyRelu", "QLinearWhere", "QAttention",
    };

    private static readonly HashSet<string> DynamicOps = new(StringComparer.Ordinal)
    {
        "DynamicQuantizeLinear", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM",
    };

    /// <summary>Summarizes a model.</summary>
    public static ModelSummary Of(OnnxModel model)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Node)
        {
            var key = node.Domain.Length == 0 || node.Domain == "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        var opTypes = model.Graph.Node.Select(n => n.OpType).ToHashSet(StringComparer.Ordinal);
        var bytes = QuantizationReport.MeasureConstants(model.Proto);
        bool hasIntegerWeights = bytes.Keys.Any(k => k is "int8" or "uint8");
        string format =
            opTypes.Overlaps(QOperatorOps) ? "QOperator (QLinear* operators)"
            : opTypes.Contains("QuantizeLinear") && opTypes.Contains("DequantizeLinear") ? "QDQ (QuantizeLinear/DequantizeLinear pairs)"
            : opTypes.Overlaps(DynamicOps) ? "dynamic (weights INT8, activations quantized at run time)"
            : hasIntegerWeights && opTypes.Contains("DequantizeLinear") ? "weight-only (INT8 weights dequantized at run time)"
            : "none (float model)";
        return new ModelSummary(format, counts, bytes);
    }

    /// <summary>"name: float[batch,3,224,224]".</summary>
    public static string Describe(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensor) return value.Name;
        var dims = tensor.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam.Length > 0 ? d.DimParam : "?") ?? Enumerable.Empty<string>();
        return $"{value.Name}: {ElementType.Name(tensor.ElemType)}[{string.Join(",", dims)}]";
    }
}
