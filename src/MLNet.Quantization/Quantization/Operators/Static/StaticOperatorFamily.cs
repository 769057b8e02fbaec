using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Operators.Static;

/// <summary>
/// One family of operators in static mode: the operator types it covers, whether a node qualifies (filling in which
/// inputs play which part), and how a quantized node is written in QDQ and in QOperator form. Families are listed once
/// in <see cref="StaticOperators"/>; adding an operator to a family is one line there, a new family one file more.
/// </summary>
internal abstract class StaticOperatorFamily
{
    /// <summary>The role the family's nodes play in the plan (integer-region rules depend on it).</summary>
    public abstract StaticOperatorKind Kind { get; }

    /// <summary>Null when the node can be quantized (and <paramref name="entry"/> is filled in); otherwise why it stays float.</summary>
    public abstract string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset);

    /// <summary>
    /// QDQ form: <paramref name="copy"/> already reads its activations dequantized; the family replaces its constant
    /// inputs and adds it to the graph. Returns the report detail.
    /// </summary>
    public virtual string WriteQdq(QdqWriter writer, StaticNodePlan entry, NodeProto copy)
    {
        writer.Context.Nodes.Add(copy);
        return ActivationsDetail(writer);
    }

    /// <summary>The report's note on the activation type.</summary>
    protected static string ActivationsDetail(QdqWriter writer) => $"activations {writer.Context.Options.ActivationType.ToString().ToLowerInvariant()}";

    /// <summary>QOperator form: writes the node producing <paramref name="outputName"/> (the 8-bit form of <paramref name="output"/> when that is quantized). Returns the report detail.</summary>
    public abstract string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output);

    /// <summary>Records every listed input as an activation, or says which one is not a float32 run-time value.</summary>
    protected static string? TakeActivations(StaticNodePlan entry, IReadOnlySet<string> floatTensors, IEnumerable<int> inputs)
    {
        foreach (var i in inputs)
        {
            if (!floatTensors.Contains(entry.Node.Input[i])) return $"input {i} is not a float32 run-time value";
            entry.ActivationInputs.Add(i);
        }
        return null;
    }
}
