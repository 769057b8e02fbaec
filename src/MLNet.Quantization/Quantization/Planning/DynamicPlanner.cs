using MLNet.Quantization.Onnx;
using MLNet.Quantization.Operators;

namespace MLNet.Quantization.Planning;

/// <summary>Decides which nodes of a graph are quantized, and records why the others stay float.</summary>
internal static class DynamicPlanner
{
    /// <summary>One decision per node whose operator type has a quantizer (other nodes are not candidates).</summary>
    public static IReadOnlyList<NodeDecision> Plan(GraphEditor graph, QuantizationOptions options)
    {
        var selection = new NodeSelection(options);
        var decisions = new List<NodeDecision>();
        for (int index = 0; index < graph.Graph.Node.Count; index++)
        {
            var node = graph.Graph.Node[index];
            if (node.Domain.Length != 0 && node.Domain != "ai.onnx") continue;
            var quantizer = OperatorRegistry.Find(node.OpType);
            if (quantizer is null) continue;
            var name = node.Name.Length > 0 ? node.Name : $"{node.OpType}#{index}";
            string? reason =
                node.OpType == "Conv" && !options.QuantizeConv ? ConvQuantizer.SlowerThanFloatReason
                : selection.Reason(node) ?? quantizer.Check(node, graph, options);
            decisions.Add(new NodeDecision(node, name, reason is null ? quantizer : null, reason));
        }
        return decisions;
    }
}
