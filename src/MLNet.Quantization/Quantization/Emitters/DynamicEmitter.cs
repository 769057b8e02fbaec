using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Emitters;

/// <summary>Rewrites a graph according to a plan: each quantized node is replaced in place, in order.</summary>
internal static class DynamicEmitter
{
    /// <summary>Applies the plan and returns a report line per decision.</summary>
    public static IReadOnlyList<NodeReport> Emit(GraphEditor graph, IReadOnlyList<NodeDecision> plan, QuantizationOptions options, IProgress<QuantizationProgress>? progress)
    {
        var decisions = new Dictionary<NodeProto, NodeDecision>(ReferenceEqualityComparer.Instance);
        foreach (var decision in plan) decisions[decision.Node] = decision;
        var context = new DynamicEmitContext(graph, options);
        var reports = new List<NodeReport>();
        int toQuantize = plan.Count(d => d.Quantize), done = 0;
        foreach (var node in graph.Graph.Node.ToList())
        {
            if (context.IsFusedAway(node)) continue;
            if (!decisions.TryGetValue(node, out var decision) || !decision.Quantize)
            {
                context.Nodes.Add(node);
                if (decision is not null) reports.Add(new NodeReport(decision.DisplayName, node.OpType, false, decision.Reason!));
                continue;
            }
            var detail = decision.Operator!.EmitDynamic(node, context);
            reports.Add(new NodeReport(decision.DisplayName, node.OpType, true, detail));
            progress?.Report(new QuantizationProgress("Quantizing nodes", ++done, toQuantize));
        }
        graph.Graph.Node.Clear();
        graph.Graph.Node.AddRange(context.Nodes);
        return reports;
    }
}
