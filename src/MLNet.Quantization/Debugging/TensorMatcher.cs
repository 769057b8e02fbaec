using System.Text.RegularExpressions;
using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Debugging;

/// <summary>
/// Finds, for each float tensor, the float value the quantized model carries in its place: the output of the
/// DequantizeLinear after its QuantizeLinear (QDQ), the same-named float tensor (float operators, dynamic mode), or,
/// for an 8-bit output of a QLinear operator (QOperator), a DequantizeLinear added to the debug copy with that
/// operator's output scale and zero point.
/// </summary>
internal static class TensorMatcher
{
    /// <summary>Input positions of the output scale and zero point of the 8-bit operators this project and ONNX Runtime write.</summary>
    private static readonly Dictionary<string, (int Scale, int ZeroPoint)> OutputParameters = new(StringComparer.Ordinal)
    {
        ["QuantizeLinear"] = (1, 2),
        ["QLinearConv"] = (6, 7),
        ["QLinearMatMul"] = (6, 7),
        ["QLinearAdd"] = (6, 7),
        ["QLinearMul"] = (6, 7),
        ["QGemm"] = (6, 7),
        ["QLinearAveragePool"] = (3, 4),
        ["QLinearGlobalAveragePool"] = (3, 4),
        ["QLinearSigmoid"] = (3, 4),
        ["QLinearSoftmax"] = (3, 4),
        ["QLinearConcat"] = (0, 1),
    };

    /// <summary>Float tensor name → tensor name in <paramref name="quantized"/> (which may gain DequantizeLinear nodes).</summary>
    public static Dictionary<string, string> Match(GraphEditor quantized, IReadOnlyList<string> floatTensors)
    {
        var floats = Calibration.AugmentedModel.FloatValues(quantized.Model);
        var byName = quantized.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0).ToHashSet(StringComparer.Ordinal);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        bool added = false;
        foreach (var tensor in floatTensors)
        {
            var dequantized = quantized.Consumers(tensor).Where(c => c.OpType == "QuantizeLinear")
                .SelectMany(q => quantized.Consumers(q.Output[0])).FirstOrDefault(d => d.OpType == "DequantizeLinear");
            if (dequantized is not null) map[tensor] = dequantized.Output[0];
            else if (byName.Contains(tensor) && floats.Contains(tensor)) map[tensor] = tensor;
            else if (EightBitStandIn(quantized, tensor) is { } node && AddDequantize(quantized, node) is { } output)
            {
                map[tensor] = output;
                added = true;
            }
        }
        if (added) quantized.Reindex();
        return map;
    }

    private static NodeProto? EightBitStandIn(GraphEditor quantized, string tensor)
    {
        var pattern = new Regex($"^{Regex.Escape(EmitContext.Sanitize(tensor))}_quantized(_[0-9]+)?$");
        return quantized.Graph.Node.FirstOrDefault(n => n.Output.Count > 0 && pattern.IsMatch(n.Output[0]) && OutputParameters.ContainsKey(n.OpType));
    }

    private static string? AddDequantize(GraphEditor quantized, NodeProto producer)
    {
        var (scale, zeroPoint) = OutputParameters[producer.OpType];
        if (producer.Input.Count <= zeroPoint || producer.Input[scale].Length == 0) return null;
        var output = quantized.UniqueName(producer.Output[0] + "_debug_dequantized");
        var node = new NodeProto { OpType = "DequantizeLinear", Domain = (quantized.OpsetVersion("") ?? 1) >= 10 ? "" : "com.microsoft", Name = quantized.UniqueName(output + "_node") };
        node.Input.Add(producer.Output[0]);
        node.Input.Add(producer.Input[scale]);
        node.Input.Add(producer.Input[zeroPoint]);
        node.Output.Add(output);
        quantized.Graph.Node.Add(node);
        return output;
    }
}
