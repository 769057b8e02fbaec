using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Planning;

/// <summary>
/// Weight-only mode: which MatMul and Gemm nodes (constant weights) and Gather nodes (constant embedding tables) get
/// block-quantized weights, and why the others stay float.
/// </summary>
internal static class WeightOnlyPlanner
{
    /// <summary>The operator types weight-only mode can rewrite.</summary>
    public static readonly IReadOnlyList<string> SupportedOpTypes = new[] { "MatMul", "Gemm", "Gather" };

    /// <summary>One decision per MatMul/Gemm/Gather node of the default domain.</summary>
    public static IReadOnlyList<WeightOnlyDecision> Plan(GraphEditor graph, QuantizationOptions options)
    {
        var selection = new NodeSelection(options);
        var decisions = new List<WeightOnlyDecision>();
        for (int index = 0; index < graph.Graph.Node.Count; index++)
        {
            var node = graph.Graph.Node[index];
            if ((node.Domain.Length != 0 && node.Domain != "ai.onnx") || !SupportedOpTypes.Contains(node.OpType)) continue;
            var name = node.Name.Length > 0 ? node.Name : $"{node.OpType}#{index}";
            string? reason = selection.Reason(node) ?? Check(node, graph, options);
            decisions.Add(new WeightOnlyDecision(node, name, reason));
        }
        return decisions;
    }

    private static string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options)
    {
        if (node.OpType == "Gather") return CheckGather(node, graph, options);
        if (node.OpType == "Gemm")
        {
            if (NodeAttributes.GetFloat(node, "alpha", 1f) != 1f) return "alpha is not 1";
            if (NodeAttributes.GetInt(node, "transA", 0) != 0) return "transA is set";
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                if (NodeAttributes.GetFloat(node, "beta", 1f) != 1f) return "beta is not 1";
                if (!graph.TryGetConstant(node.Input[2], out var bias) || bias.Dims.Count != 1 || bias.DataType != (int)TensorProto.Types.DataType.Float)
                    return "bias C is not a constant float vector (MatMulNBits adds one bias per output column)";
            }
        }
        var weightProblem = Operators.WeightChecks.CheckConstantFloat(graph, node, 1, "weight B", options, 2)
            ?? Operators.WeightChecks.CheckRuntimeInput(graph, node, 0, "input A");
        if (weightProblem is not null) return weightProblem;
        graph.TryGetConstant(node.Input[1], out var weight);
        if (weight.Dims.Any(d => d > int.MaxValue / 256)) return "weight B is too large for one MatMulNBits";
        if (options.WeightOnly.Format != WeightOnlyFormat.Integer && TensorData.ElementCount(weight) >= int.MaxValue) return "weight B has 2^31 values or more, beyond MatMulBnb4's 32-bit element count";
        if (node.OpType == "Gemm" && node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            graph.TryGetConstant(node.Input[2], out var bias);
            long columns = NodeAttributes.GetInt(node, "transB", 0) != 0 ? weight.Dims[0] : weight.Dims[1];
            if (bias.Dims[0] != columns) return $"bias C has {bias.Dims[0]} values, not one per output column ({columns})";
        }
        return null;
    }

    /// <summary>GatherBlockQuantized (uint8 data) gathers rows of a 2-D table quantized in blocks along each row.</summary>
    private static string? CheckGather(NodeProto node, GraphEditor graph, QuantizationOptions options)
    {
        var tableProblem = Operators.WeightChecks.CheckConstantFloat(graph, node, 0, "table", options, 2)
            ?? Operators.WeightChecks.CheckRuntimeInput(graph, node, 1, "indices");
        if (tableProblem is not null) return tableProblem;
        long axis = NodeAttributes.GetInt(node, "axis", 0);
        if (axis is not (0 or -2)) return $"gathers along axis {axis}; GatherBlockQuantized gathers rows (axis 0)";
        if (!IndicesComeFromGraphInput(graph, node.Input[1]))
            return "indices are computed (positions), not token ids from a graph input: position and rotary tables stay float";
        graph.TryGetConstant(node.Input[0], out var table);
        int blockSize = options.WeightOnly.BlockSize;
        if (table.Dims[1] % blockSize != 0) return $"rows of {table.Dims[1]} values are not a multiple of the block size ({blockSize})";
        return null;
    }

    /// <summary>Operators that pass token ids on without computing new ones.</summary>
    private static readonly HashSet<string> IdPassThrough = new(StringComparer.Ordinal) { "Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Identity" };

    /// <summary>Whether the indices are a graph input, possibly cast or reshaped (token ids rather than computed positions).</summary>
    private static bool IndicesComeFromGraphInput(GraphEditor graph, string indices)
    {
        for (int depth = 0; depth < 16; depth++)
        {
            if (graph.Graph.Input.Any(i => i.Name == indices)) return true;
            var producer = graph.Producer(indices);
            if (producer is null || !IdPassThrough.Contains(producer.OpType)) return false;
            indices = producer.Input[0];
        }
        return false;
    }

    /// <summary>GPTQ: an observer of the input statistics of every planned MatMul/Gemm, gathered layer by layer.</summary>
    public static WeightOnly.SequentialHessianObserver HessiansFor(GraphEditor graph, CalibrationData data, QuantizationOptions options, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken) =>
        new(graph, data, options, progress, cancellationToken);
}
