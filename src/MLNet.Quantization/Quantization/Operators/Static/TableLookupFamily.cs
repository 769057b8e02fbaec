using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Operators.Static;

/// <summary>Gather over a constant table (embeddings): the table is stored 8-bit and gathered before dequantizing.</summary>
internal sealed class TableLookupFamily : StaticOperatorFamily
{
    /// <inheritdoc />
    public override StaticOperatorKind Kind => StaticOperatorKind.TableLookup;

    /// <inheritdoc />
    public override string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset) =>
        WeightChecks.CheckConstantFloat(graph, entry.Node, 0, "table", options, 2);

    /// <inheritdoc />
    public override string WriteQdq(QdqWriter writer, StaticNodePlan entry, NodeProto copy)
    {
        var context = writer.Context;
        var table = context.Table(entry.Node.Input[0], entry.Node.Output[0]);
        var stem = EmitContext.Sanitize(copy.Output[0]);
        copy.Input[0] = table.Data;
        var gathered = context.Graph.UniqueName($"{stem}_quantized");
        var output = copy.Output[0];
        copy.Output[0] = gathered;
        context.Nodes.Add(copy);
        context.AddNode("DequantizeLinear", context.QdqDomain, $"{stem}_DequantizeLinear", new[] { gathered, table.Scale, table.ZeroPoint }, new[] { output });
        writer.MarkDequantized(output);
        return "8-bit table gathered, then dequantized";
    }

    /// <inheritdoc />
    public override string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output)
    {
        var table = writer.Context.Table(entry.Node.Input[0], entry.Node.Output[0]);
        var copy = entry.Node.Clone();
        copy.Input[0] = table.Data;
        copy.Output[0] = outputName;
        writer.Context.Nodes.Add(copy);
        return "Gather over the 8-bit table";
    }
}
