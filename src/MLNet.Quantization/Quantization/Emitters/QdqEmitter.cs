namespace MLNet.Quantization.Emitters;

/// <summary>
/// Writes a static plan in QDQ form: each quantized activation gets one QuantizeLinear → DequantizeLinear pair read
/// by the quantized nodes; weights are 8-bit initializers behind a DequantizeLinear; biases are int32 (opset 13+).
/// Float nodes keep reading the float tensors, except a Conv's output, which every reader takes dequantized so
/// ONNX Runtime can fuse the Conv into QLinearConv. Each node's own part is written by its operator family.
/// </summary>
internal static class QdqEmitter
{
    /// <summary>Rewrites the graph and returns a report line per quantized node.</summary>
    public static List<NodeReport> Emit(StaticEmitContext context)
    {
        var plan = context.Plan;
        context.QuantizeTables();
        var writer = new QdqWriter(context);
        var reports = new List<NodeReport>();
        foreach (var node in context.Graph.Graph.Node.ToList())
        {
            if (plan.FoldedActivations.Contains(node))
            {
                reports.Add(new NodeReport(plan.Nodes[node].DisplayName, node.OpType, true, "folded into the range of the tensor it produces"));
                continue;
            }
            var copy = node.Clone();
            if (plan.RenamedOutputs.TryGetValue(node, out var renamed)) copy.Output[0] = renamed;
            if (!plan.Nodes.TryGetValue(node, out var entry))
            {
                writer.RedirectFloatReader(copy);
                context.Nodes.Add(copy);
                continue;
            }
            foreach (var i in entry.ActivationInputs) copy.Input[i] = writer.Dequantized(node.Input[i]);
            var detail = entry.Family.WriteQdq(writer, entry, copy);
            reports.Add(new NodeReport(entry.DisplayName, node.OpType, true, $"QDQ: {detail}"));
        }
        context.Graph.Graph.Node.Clear();
        context.Graph.Graph.Node.AddRange(context.Nodes);
        return reports;
    }
}
