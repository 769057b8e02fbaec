using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Operators.Static;

/// <summary>
/// MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Slice, Resize, Gather over data: they move or pick
/// values, so the output reuses the input's scale and zero point and the operator runs on the 8-bit data.
/// </summary>
internal sealed class PassThroughFamily : StaticOperatorFamily
{
    /// <inheritdoc />
    public override StaticOperatorKind Kind => StaticOperatorKind.PassThrough;

    /// <summary>The lowest default-domain opset at which the operator runs on 8-bit data in ONNX Runtime.</summary>
    public static int MinimumOpsetOn8Bit(string opType) => opType switch
    {
        "MaxPool" => 12,
        "Resize" => 11,
        _ => 1,
    };

    /// <inheritdoc />
    public override string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        int minimum = MinimumOpsetOn8Bit(entry.Node.OpType);
        return opset < minimum
            ? $"{entry.Node.OpType} runs on 8-bit data only from opset {minimum}; the model imports opset {opset}"
            : TakeActivations(entry, floatTensors, new[] { 0 });
    }

    /// <inheritdoc />
    public override string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output)
    {
        var node = entry.Node;
        var copy = node.Clone();
        copy.Name = writer.Context.Graph.UniqueName(QOperatorWriter.StemOf(node, outputName) + "_8bit");
        copy.Input[0] = writer.Quantized(node.Input[0]).Data;
        copy.Output[0] = outputName;
        writer.Context.Nodes.Add(copy);
        return $"{node.OpType} on 8-bit data (input's scale reused)";
    }
}
