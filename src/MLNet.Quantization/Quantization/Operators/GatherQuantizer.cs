using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>
/// Gather over a constant table (embeddings): the table is stored uint8 with one scale and zero point, the gathered
/// rows are dequantized right after the Gather.
/// </summary>
internal sealed class GatherQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public string OpType => "Gather";

    /// <inheritdoc />
    public string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options) =>
        WeightChecks.CheckConstantFloat(graph, node, 0, "table", options);

    /// <inheritdoc />
    public string EmitDynamic(NodeProto node, DynamicEmitContext context)
    {
        var table = context.QuantizeWeight(
            node.Input[0],
            "gather|uint8",
            null,
            (values, dims) => WeightQuantizer.Quantize(values, dims, QuantizedType.UInt8, symmetric: false, reduceRange: false, axis: null),
            _ => Array.Empty<long>());
        var stem = DynamicEmitContext.Sanitize(node.Name.Length > 0 ? node.Name : node.Output[0]);
        var gathered = context.Graph.UniqueName($"{stem}_quantized");
        var gather = new NodeProto { OpType = "Gather", Name = context.Graph.UniqueName($"{stem}_quantized_Gather") };
        gather.Input.Add(table.Data);
        gather.Input.Add(node.Input[1]);
        gather.Output.Add(gathered);
        gather.Attribute.AddRange(node.Attribute);
        context.Nodes.Add(gather);
        context.AddNode("DequantizeLinear", context.DequantizeLinearDomain, $"{stem}_DequantizeLinear", new[] { gathered, table.Scale, table.ZeroPoint }, new[] { node.Output[0] });
        return "uint8 table, Gather + DequantizeLinear";
    }
}
