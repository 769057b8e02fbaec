using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Operators.Static;

/// <summary>
/// AveragePool, GlobalAveragePool, Sigmoid, Softmax, Concat: an 8-bit input (every input for Concat) and an output
/// range of their own. QOperator: the matching QLinear operator of ONNX Runtime's contrib domain.
/// </summary>
internal sealed class UnaryFamily : StaticOperatorFamily
{
    /// <inheritdoc />
    public override StaticOperatorKind Kind => StaticOperatorKind.Unary;

    /// <inheritdoc />
    public override string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset) =>
        TakeActivations(entry, floatTensors, entry.Node.OpType == "Concat" ? Enumerable.Range(0, entry.Node.Input.Count) : new[] { 0 });

    /// <inheritdoc />
    public override string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output)
    {
        var context = writer.Context;
        var node = entry.Node;
        var y = context.ParameterInitializers(output);
        var stem = QOperatorWriter.StemOf(node, outputName);
        if (node.OpType == "Concat")
        {
            var inputs = new List<string> { y.Scale, y.ZeroPoint };
            foreach (var i in entry.ActivationInputs) { var x = writer.Quantized(node.Input[i]); inputs.AddRange(new[] { x.Data, x.Scale, x.ZeroPoint }); }
            writer.Add("QLinearConcat", EmitContext.MicrosoftDomain, stem, inputs, outputName, node.Attribute);
            return "QLinearConcat";
        }
        var input = writer.Quantized(node.Input[0]);
        var operands = new[] { input.Data, input.Scale, input.ZeroPoint, y.Scale, y.ZeroPoint };
        var attributes = node.Attribute.ToList();
        string op = "QLinear" + node.OpType;
        if (node.OpType == "GlobalAveragePool") attributes.Add(OnnxAttribute.Int("channels_last", 0).Proto);
        if (node.OpType == "Softmax")
        {
            if (!NodeAttributes.Has(node, "axis")) attributes.Add(OnnxAttribute.Int("axis", context.Opset >= 13 ? -1 : 1).Proto);
            attributes.Add(OnnxAttribute.Int("opset", context.Opset).Proto);
        }
        writer.Add(op, EmitContext.MicrosoftDomain, stem, operands, outputName, attributes);
        return op;
    }
}
