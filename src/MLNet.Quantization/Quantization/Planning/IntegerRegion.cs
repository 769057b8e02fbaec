using MLNet.Quantization.Onnx;
using MLNet.Quantization.Operators;

namespace MLNet.Quantization.Planning;

/// <summary>
/// One connected set of quantized nodes: data flows between them in 8 bits, and is converted only where it enters
/// (quantize) or leaves (dequantize).
/// </summary>
/// <param name="NodeIndexes">The nodes' positions in the planned graph.</param>
/// <param name="MultiplyAdds">Estimated multiply-adds of its products per run.</param>
/// <param name="ConvertedElements">Estimated elements quantized or dequantized at its edges per run.</param>
internal sealed record IntegerRegion(IReadOnlySet<int> NodeIndexes, double MultiplyAdds, double ConvertedElements)
{
    /// <summary>Compute per converted element: what the integer kernels can win against what the conversions cost.</summary>
    public double Payoff => MultiplyAdds / (ConvertedElements + 1);

    /// <summary>Splits a plan into its integer regions, with estimates from the element counts seen in calibration.</summary>
    public static List<IntegerRegion> Find(GraphEditor graph, StaticPlan plan, IReadOnlyDictionary<string, long> elementCounts)
    {
        var entries = plan.Nodes.Values.ToList();
        var byNode = plan.Nodes;
        var parent = entries.ToDictionary(e => e.GraphIndex, e => e.GraphIndex);
        int Root(int i) => parent[i] == i ? i : parent[i] = Root(parent[i]);
        foreach (var entry in entries)
        {
            foreach (var input in entry.Node.Input.Where(i => i.Length > 0))
            {
                if (graph.Producer(input) is { } producer && byNode.TryGetValue(producer, out var source))
                    parent[Root(entry.GraphIndex)] = Root(source.GraphIndex);
            }
        }
        var regions = new List<IntegerRegion>();
        foreach (var group in entries.GroupBy(e => Root(e.GraphIndex)))
        {
            var members = group.ToList();
            var indexes = members.Select(m => m.GraphIndex).ToHashSet();
            double macs = members.Sum(m => EstimateMultiplyAdds(graph, plan, m, elementCounts));
            double converted = 0;
            foreach (var member in members)
            {
                foreach (var i in member.ActivationInputs)
                {
                    var producer = graph.Producer(member.Node.Input[i]);
                    if (producer is null || !byNode.ContainsKey(producer)) converted += Count(plan, member.Node.Input[i], elementCounts);
                }
                var output = plan.RenamedOutputs.TryGetValue(member.Node, out var renamed) ? renamed : member.Node.Output[0];
                if (member.Kind == StaticOperatorKind.FoldedActivation) continue;
                if (graph.Consumers(output).Any(c => !byNode.ContainsKey(c)) || graph.Graph.Output.Any(o => o.Name == output))
                    converted += Count(plan, output, elementCounts);
            }
            regions.Add(new IntegerRegion(indexes, macs, converted));
        }
        return regions;
    }

    private static double EstimateMultiplyAdds(GraphEditor graph, StaticPlan plan, StaticNodePlan entry, IReadOnlyDictionary<string, long> elementCounts)
    {
        if (entry.Kind != StaticOperatorKind.Product || entry.WeightInput is not { } w || !graph.TryGetConstant(entry.Node.Input[w], out var weight)) return 0;
        double weightElements = TensorData.ElementCount(weight);
        var dims = weight.Dims;
        double features = entry.Node.OpType switch
        {
            "Conv" => dims[1] * NodeAttributes.GetInt(entry.Node, "group", 1),
            "Gemm" when NodeAttributes.GetInt(entry.Node, "transB", 0) != 0 => dims[1],
            _ => dims[0],
        };
        double input = Count(plan, entry.Node.Input[0], elementCounts);
        return weightElements * Math.Max(1, input / Math.Max(1, features));
    }

    private static double Count(StaticPlan plan, string tensor, IReadOnlyDictionary<string, long> elementCounts) =>
        elementCounts.TryGetValue(tensor, out var n) ? n : elementCounts.TryGetValue(plan.ParameterSource(tensor), out var m) ? m : 1;
}
