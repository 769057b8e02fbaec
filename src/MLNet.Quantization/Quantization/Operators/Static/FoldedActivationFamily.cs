using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Operators.Static;

/// <summary>
/// Relu, Clip: folded into the range of the tensor the node before them produces; the quantizer's clamp to that range
/// does the clipping, so nothing is written for them.
/// </summary>
internal sealed class FoldedActivationFamily : StaticOperatorFamily
{
    /// <inheritdoc />
    public override StaticOperatorKind Kind => StaticOperatorKind.FoldedActivation;

    /// <inheritdoc />
    public override string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        var node = entry.Node;
        if (options.Overrides?.Tensors.TryGetValue(node.Output[0], out var forced) == true ? forced.Symmetric ?? options.SymmetricActivations : options.SymmetricActivations)
            return "symmetric activation ranges cannot stand in for Relu/Clip";
        if (!floatTensors.Contains(node.Input[0])) return "its input is not a float32 run-time value";
        if (graph.Consumers(node.Input[0]).Count != 1 || graph.IsObservedOutsideMainGraph(node.Input[0])) return "its input is also read elsewhere, so it cannot be folded";
        if (node.OpType == "Clip")
        {
            if (ClipMinimum(node, graph, opset) is not { } minimum) return "Clip bounds are not constants";
            if (minimum > 0) return "Clip with a positive lower bound cannot be folded into a range that includes 0";
        }
        entry.ActivationInputs.Add(0);
        return null;
    }

    /// <inheritdoc />
    public override string WriteQdq(QdqWriter writer, StaticNodePlan entry, NodeProto copy) =>
        throw new InvalidOperationException($"{entry.Node.OpType} is folded into its producer's range and is not written.");

    /// <inheritdoc />
    public override string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output) =>
        throw new InvalidOperationException($"{entry.Node.OpType} is folded into its producer's range and is not written.");

    private static float? ClipMinimum(NodeProto node, GraphEditor graph, long opset)
    {
        if (opset < 11) return NodeAttributes.GetFloat(node, "min", float.MinValue);
        if (node.Input.Count < 2 || node.Input[1].Length == 0) return float.MinValue;
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && !graph.TryGetConstant(node.Input[2], out _)) return null;
        return graph.TryGetConstant(node.Input[1], out var min) ? TensorData.ReadFloats(min)[0] : null;
    }
}
