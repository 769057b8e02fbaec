using MLNet.Quantization.Onnx;
using MLNet.Quantization.Operators;

namespace MLNet.Quantization.Planning;

/// <summary>Whether one node can be quantized statically on its own terms: the checks every family shares, then its family's.</summary>
internal static class StaticEligibility
{
    /// <summary>Null when eligible (and <paramref name="entry"/> filled in); otherwise why the node stays float.</summary>
    public static string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        var node = entry.Node;
        if (node.Output.Count(o => o.Length > 0) != 1) return "it has more than one output";
        if (!floatTensors.Contains(node.Output[0]) && entry.Kind != StaticOperatorKind.TableLookup) return "its output is not float32";
        return entry.Family.Check(entry, graph, options, floatTensors, opset);
    }
}
