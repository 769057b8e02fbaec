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
            opTypes.Contains("MatMulNBits") || opTypes.Contains("MatMulBnb4") || opTypes.Contains("GatherBlockQuantized") ? $"weight-only ({WeightOnlyDescription(model)})"
            : opTypes.Overlaps(QOperatorOps) ? "QOperator (QLinear* operators)"
            : opTypes.Contains("QuantizeLinear") && opTypes.Contains("DequantizeLinear") ? "QDQ (QuantizeLinear/DequantizeLinear pairs)"
            : opTypes.Overlaps(DynamicOps) ? "dynamic (weights INT8, activations quantized at run time)"
            : hasIntegerWeights && opTypes.Contains("DequantizeLinear") ? "weight-only (INT8 weights dequantized at run time)"
            : bytes.Keys.FirstOrDefault(k => k is "float16" or "bfloat16") is { } half ? HalfDescription(model, bytes, half)
            : "none (float model)";
        return new ModelSummary(format, counts, bytes);
    }

    /// <summary>"4-bit blocks of 32, 4.50 bits/weight over 12 MatMulNBits" from the nodes' attributes and initializers.</summary>
    private static string WeightOnlyDescription(OnnxModel model)
    {
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var nodes = model.Graph.Node.Where(n => n.OpType is "MatMulNBits" or "MatMulBnb4" or "GatherBlockQuantized").ToList();
        long weights = 0, storedBits = 0;
        foreach (var node in nodes)
        {
            bool gather = node.OpType == "GatherBlockQuantized";
            var parameters = gather ? new[] { node.Input[0] }.Concat(node.Input.Skip(2).Take(2)) : node.Input.Skip(1).Take(3);
            foreach (var input in parameters)
            {
                if (!initializers.TryGetValue(input, out var tensor)) continue;
                long bits = TensorData.ElementCount(tensor) * ElementType.SizeOf(tensor.DataType) * 8;
                storedBits += bits;
                if (gather && input == node.Input[0]) weights += bits / NodeAttributes.GetInt(node, "bits", 4);
            }
            if (!gather) weights += NodeAttributes.GetInt(node, "K", 0) * NodeAttributes.GetInt(node, "N", 0);
        }
        var layouts = nodes.Select(n => $"{Codes(n)} blocks of {NodeAttributes.GetInt(n, "block_size", 0)}").Distinct();
        var counts = new[] { "MatMulNBits", "MatMulBnb4", "GatherBlockQuantized" }.Select(op => (op, count: nodes.Count(n => n.OpType == op))).Where(c => c.count > 0).Select(c => $"{c.count} {c.op}");
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{string.Join(", ", layouts)}; {(weights == 0 ? 0 : (double)storedBits / weights):F2} bits/weight over {string.Join(" and ", counts)}, activations float");
    }

    /// <summary>"float16 (weights: 98% of constant bytes; 3 nodes compute in float16, 12 Casts)".</summary>
    private static string HalfDescription(OnnxModel model, IReadOnlyDictionary<string, long> bytes, string type)
    {
        var halfType = type == "float16" ? (int)TensorProto.Types.DataType.Float16 : (int)TensorProto.Types.DataType.Bfloat16;
        var (types, _) = Preparation.ElementTypeInference.Infer(model.Graph);
        int halfNodes = model.Graph.Node.Count(n => n.OpType != "Cast" && n.OpType != "Constant" && n.Output.Any(o => types.TryGetValue(o, out var t) && t == halfType));
        int casts = model.Graph.Node.Count(n => n.OpType == "Cast");
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{type} (weights: {(double)bytes[type] / bytes.Values.Sum():P0} of constant bytes in {type}; {halfNodes} nodes compute in {type}, {casts} Casts)");
    }

    private static string Codes(NodeProto node) => node.OpType == "MatMulBnb4"
        ? (NodeAttributes.GetInt(node, "quant_type", 1) == 1 ? "NF4" : "FP4")
        : $"{NodeAttributes.GetInt(node, "bits", 4)}-bit";

    /// <summary>"name: float[batch,3,224,224]".</summary>
    public static string Describe(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensor) return value.Name;
        var dims = tensor.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam.Length > 0 ? d.DimParam : "?") ?? Enumerable.Empty<string>();
        return $"{value.Name}: {ElementType.Name(tensor.ElemType)}[{string.Join(",", dims)}]";
    }
}
