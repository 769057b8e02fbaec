using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Emitters;

/// <summary>
/// Writes a static plan as integer operators: QLinearConv, QLinearMatMul / MatMulIntegerToFloat, QGemm,
/// QLinearAdd/Mul, QLinear pools, Sigmoid, Softmax and Concat; pass-through ops run on the 8-bit data.
/// A QuantizeLinear enters each integer region, a DequantizeLinear leaves it where a float reader needs the value.
/// </summary>
internal static class QOperatorEmitter
{
    /// <summary>Rewrites the graph and returns a report line per quantized node.</summary>
    public static List<NodeReport> Emit(StaticEmitContext context)
    {
        if (context.Opset < 10)
            throw new InvalidOperationException($"The QOperator format needs opset 10 or later (QLinearConv, QLinearMatMul); this model imports opset {context.Opset}.");
        var plan = context.Plan;
        context.QuantizeTables();
        var writer = new QOperatorWriter(context);
        var reports = new List<NodeReport>();
        foreach (var node in context.Graph.Graph.Node.ToList())
        {
            if (context.IsFusedAway(node)) continue;
            if (plan.FoldedActivations.Contains(node))
            {
                reports.Add(new NodeReport(plan.Nodes[node].DisplayName, node.OpType, true, "folded into the range of the tensor it produces"));
                continue;
            }
            var output = plan.RenamedOutputs.TryGetValue(node, out var renamed) ? renamed : node.Output.FirstOrDefault() ?? "";
            if (!plan.Nodes.TryGetValue(node, out var entry))
            {
                var copy = node.Clone();
                if (renamed is not null) copy.Output[0] = renamed;
                context.Nodes.Add(copy);
                continue;
            }
            var detail = writer.Write(entry, output);
            reports.Add(new NodeReport(entry.DisplayName, node.OpType, true, $"QOperator: {detail}"));
        }
        context.Graph.Graph.Node.Clear();
        context.Graph.Graph.Node.AddRange(context.Nodes);
        return reports;
    }
}
