using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>Checks shared by operators whose weights come from constant inputs.</summary>
internal static class WeightChecks
{
    /// <summary>Null when the input is a float32 constant of an accepted rank and large enough; else the reason.</summary>
    public static string? CheckConstantFloat(GraphEditor graph, NodeProto node, int inputIndex, string role, QuantizationOptions options, params int[] ranks)
    {
        if (node.Input.Count <= inputIndex || node.Input[inputIndex].Length == 0) return $"{role} input is missing";
        if (!graph.TryGetConstant(node.Input[inputIndex], out var tensor)) return $"{role} is computed at run time, not a constant weight";
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float) return $"{role} is {ElementType.Name(tensor.DataType)}; only float32 weights are quantized";
        if (ranks.Length > 0 && !ranks.Contains(tensor.Dims.Count)) return $"{role} has rank {tensor.Dims.Count}; expected rank {string.Join(" or ", ranks)}";
        long elements = TensorData.ElementCount(tensor);
        if (elements < options.MinimumWeightElements) return $"{role} has {elements} elements, fewer than MinimumWeightElements ({options.MinimumWeightElements})";
        return null;
    }

    /// <summary>Null when the input is produced at run time (not a constant); else the reason.</summary>
    public static string? CheckRuntimeInput(GraphEditor graph, NodeProto node, int inputIndex, string role) =>
        graph.TryGetConstant(node.Input[inputIndex], out _) ? $"{role} is a constant; fold the constant computation instead" : null;
}
