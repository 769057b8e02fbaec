using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Planning;

/// <summary>
/// Finds the Add/Mul nodes inside decomposed normalizations (ReduceMean → Sub → Pow → ReduceMean → Add ε → Sqrt →
/// Div → Mul γ → Add β): an Add or Mul with a constant operand whose other operand comes from a statistics node
/// (ReduceMean, Sub, Pow, Sqrt, Div, Reciprocal) or from another such Add/Mul. Quantizing these collapses accuracy.
/// </summary>
internal static class NormalizationDetector
{
    private static readonly HashSet<string> StatisticsOps = new(StringComparer.Ordinal) { "ReduceMean", "Sub", "Pow", "Sqrt", "Div", "Reciprocal" };

    /// <summary>The normalization-internal Add/Mul nodes of the graph.</summary>
    public static HashSet<NodeProto> Find(GraphEditor graph)
    {
        var found = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var node in graph.Graph.Node)
            {
                if (found.Contains(node) || (node.OpType != "Add" && node.OpType != "Mul") || node.Domain.Length != 0 || node.Input.Count != 2) continue;
                int constants = node.Input.Count(i => graph.TryGetConstant(i, out _));
                if (constants != 1) continue;
                var operand = node.Input.First(i => !graph.TryGetConstant(i, out _));
                var producer = graph.Producer(operand);
                if (producer is null) continue;
                if ((StatisticsOps.Contains(producer.OpType) && ComesFromReduceMean(graph, producer, 4)) || found.Contains(producer))
                {
                    found.Add(node);
                    changed = true;
                }
            }
        }
        return found;
    }

    private static bool ComesFromReduceMean(GraphEditor graph, NodeProto node, int depth)
    {
        if (node.OpType == "ReduceMean") return true;
        if (depth == 0) return false;
        foreach (var input in node.Input)
        {
            var producer = graph.Producer(input);
            if (producer is not null && ComesFromReduceMean(graph, producer, depth - 1)) return true;
        }
        return false;
    }
}
