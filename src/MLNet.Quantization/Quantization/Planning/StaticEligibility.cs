using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Planning;

/// <summary>Whether one node can be quantized statically on its own terms; fills in which inputs play which part.</summary>
internal static class StaticEligibility
{
    /// <summary>Null when eligible (and <paramref name="entry"/> filled in); otherwise why the node stays float.</summary>
    public static string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        var node = entry.Node;
        if (node.Output.Count(o => o.Length > 0) != 1) return "it has more than one output";
        if (!floatTensors.Contains(node.Output[0]) && entry.Kind != StaticOperatorKind.TableLookup) return "its output is not float32";
        return entry.Kind switch
        {
            StaticOperatorKind.Product => CheckProduct(entry, graph, options, floatTensors),
            StaticOperatorKind.Binary => CheckBinary(entry, graph, floatTensors),
            StaticOperatorKind.Unary => CheckAllActivations(entry, floatTensors, StaticOperators.DataInputs(node, entry.Kind)),
            StaticOperatorKind.PassThrough => opset < StaticOperators.MinimumOpsetOn8Bit(node.OpType)
                ? $"{node.OpType} runs on 8-bit data only from opset {StaticOperators.MinimumOpsetOn8Bit(node.OpType)}; the model imports opset {opset}"
                : CheckAllActivations(entry, floatTensors, new[] { 0 }),
            StaticOperatorKind.FoldedActivation => CheckActivation(entry, graph, options, floatTensors, opset),
            StaticOperatorKind.TableLookup => WeightChecks.CheckConstantFloat(graph, node, 0, "table", options, 2),
            _ => "unsupported role",
        };
    }

    private static string? CheckProduct(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors)
    {
        var node = entry.Node;
        if (!floatTensors.Contains(node.Input[0])) return "input A is not a float32 run-time value";
        entry.ActivationInputs.Add(0);
        if (node.OpType == "MatMul" && floatTensors.Contains(node.Input[1]))
        {
            entry.ActivationInputs.Add(1);
            return null;
        }
        if (node.OpType == "Gemm")
        {
            if (NodeAttributes.GetInt(node, "transA", 0) != 0) return "Gemm with transA = 1 is not quantized";
            if (NodeAttributes.GetFloat(node, "alpha", 1f) != 1f || NodeAttributes.GetFloat(node, "beta", 1f) != 1f) return "Gemm with alpha or beta other than 1 is not quantized";
        }
        int[] ranks = node.OpType == "Conv" ? new[] { 3, 4, 5 } : new[] { 2 };
        if (WeightChecks.CheckConstantFloat(graph, node, 1, "weight", options, ranks) is { } reason) return reason;
        entry.WeightInput = 1;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (!graph.TryGetConstant(node.Input[2], out var bias) || bias.DataType != (int)DataType.Float || bias.Dims.Count != 1)
                return "its bias is not a constant float vector";
            entry.BiasInput = 2;
        }
        return null;
    }

    private static string? CheckBinary(StaticNodePlan entry, GraphEditor graph, IReadOnlySet<string> floatTensors)
    {
        var node = entry.Node;
        for (int i = 0; i < 2; i++)
        {
            if (floatTensors.Contains(node.Input[i])) entry.ActivationInputs.Add(i);
            else if (graph.TryGetConstant(node.Input[i], out var constant) && constant.DataType == (int)DataType.Float) entry.ConstantOperands.Add(i);
            else return $"input {i} is neither a float32 run-time value nor a float constant";
        }
        if (entry.ConstantOperands.Count > 0)
            return "an Add/Mul of a constant stays float: ONNX Runtime folds a bias Add into the integer product before it, and scaling by a constant gains nothing in 8 bits";
        return null;
    }

    private static string? CheckAllActivations(StaticNodePlan entry, IReadOnlySet<string> floatTensors, IEnumerable<int> inputs)
    {
        foreach (var i in inputs)
        {
            if (!floatTensors.Contains(entry.Node.Input[i])) return $"input {i} is not a float32 run-time value";
            entry.ActivationInputs.Add(i);
        }
        return null;
    }

    private static string? CheckActivation(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        var node = entry.Node;
        if (options.Overrides?.Tensors.TryGetValue(node.Output[0], out var forced) == true ? forced.Symmetric ?? options.SymmetricActivations : options.SymmetricActivations)
            return "symmetric activation ranges cannot stand in for Relu/Clip";
        if (!floatTensors.Contains(node.Input[0])) return "its input is not a float32 run-time value";
        if (graph.Consumers(node.Input[0]).Count != 1 || graph.IsObservedOutsideMainGraph(node.Input[0])) return "its input is also read elsewhere, so it cannot be folded";
        if (node.OpType == "Clip" && ClipMinimum(node, graph, opset) is not { } minimum) return "Clip bounds are not constants";
        else if (node.OpType == "Clip" && ClipMinimum(node, graph, opset) > 0) return "Clip with a positive lower bound cannot be folded into a range that includes 0";
        entry.ActivationInputs.Add(0);
        return null;
    }

    private static float? ClipMinimum(NodeProto node, GraphEditor graph, long opset)
    {
        if (opset < 11) return NodeAttributes.GetFloat(node, "min", float.MinValue);
        if (node.Input.Count < 2 || node.Input[1].Length == 0) return float.MinValue;
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && !graph.TryGetConstant(node.Input[2], out _)) return null;
        return graph.TryGetConstant(node.Input[1], out var min) ? TensorData.ReadFloats(min)[0] : null;
    }
}
