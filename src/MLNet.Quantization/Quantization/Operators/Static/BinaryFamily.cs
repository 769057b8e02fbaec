using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Operators.Static;

/// <summary>Add, Mul of two activations, inside an integer region. QOperator: QLinearAdd, QLinearMul.</summary>
internal sealed class BinaryFamily : StaticOperatorFamily
{
    /// <inheritdoc />
    public override StaticOperatorKind Kind => StaticOperatorKind.Binary;

    /// <inheritdoc />
    public override string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        var node = entry.Node;
        bool constantOperand = false;
        for (int i = 0; i < 2; i++)
        {
            if (floatTensors.Contains(node.Input[i])) entry.ActivationInputs.Add(i);
            else if (graph.TryGetConstant(node.Input[i], out var constant) && constant.DataType == (int)DataType.Float) constantOperand = true;
            else return $"input {i} is neither a float32 run-time value nor a float constant";
        }
        return constantOperand
            ? "an Add/Mul of a constant stays float: ONNX Runtime folds a bias Add into the integer product before it, and scaling by a constant gains nothing in 8 bits"
            : null;
    }

    /// <inheritdoc />
    public override string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output)
    {
        var a = writer.Quantized(entry.Node.Input[0]);
        var b = writer.Quantized(entry.Node.Input[1]);
        var y = writer.Context.ParameterInitializers(output);
        var op = entry.Node.OpType == "Add" ? "QLinearAdd" : "QLinearMul";
        writer.Add(op, EmitContext.MicrosoftDomain, QOperatorWriter.StemOf(entry.Node, outputName), new[] { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, y.Scale, y.ZeroPoint }, outputName, Array.Empty<Onnx.Protos.AttributeProto>());
        return op;
    }
}
