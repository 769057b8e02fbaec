using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>The table of operators static mode knows, with their role and the ONNX facts each role depends on.</summary>
internal static class StaticOperators
{
    private static readonly Dictionary<string, StaticOperatorKind> Kinds = new(StringComparer.Ordinal)
    {
        ["Conv"] = StaticOperatorKind.Product,
        ["MatMul"] = StaticOperatorKind.Product,
        ["Gemm"] = StaticOperatorKind.Product,
        ["Add"] = StaticOperatorKind.Binary,
        ["Mul"] = StaticOperatorKind.Binary,
        ["AveragePool"] = StaticOperatorKind.Unary,
        ["GlobalAveragePool"] = StaticOperatorKind.Unary,
        ["Sigmoid"] = StaticOperatorKind.Unary,
        ["Softmax"] = StaticOperatorKind.Unary,
        ["Concat"] = StaticOperatorKind.Unary,
        ["MaxPool"] = StaticOperatorKind.PassThrough,
        ["Reshape"] = StaticOperatorKind.PassThrough,
        ["Transpose"] = StaticOperatorKind.PassThrough,
        ["Flatten"] = StaticOperatorKind.PassThrough,
        ["Squeeze"] = StaticOperatorKind.PassThrough,
        ["Unsqueeze"] = StaticOperatorKind.PassThrough,
        ["Slice"] = StaticOperatorKind.PassThrough,
        ["Resize"] = StaticOperatorKind.PassThrough,
        ["Gather"] = StaticOperatorKind.PassThrough,
        ["Relu"] = StaticOperatorKind.FoldedActivation,
        ["Clip"] = StaticOperatorKind.FoldedActivation,
    };

    /// <summary>
    /// Supported but not quantized unless asked for: Softmax's input is often logits with an additive mask (-10000),
    /// whose range leaves 8 bits no precision for the values that matter.
    /// </summary>
    private static readonly HashSet<string> OffByDefault = new(StringComparer.Ordinal) { "Softmax" };

    /// <summary>Every operator type static mode can quantize, in table order.</summary>
    public static IReadOnlyList<string> SupportedOpTypes { get; } = Kinds.Keys.ToArray();

    /// <summary>The operator types static mode quantizes when the caller names none.</summary>
    public static IReadOnlyList<string> DefaultOpTypes { get; } = Kinds.Keys.Where(op => !OffByDefault.Contains(op)).ToArray();

    /// <summary>The role of a default-domain node in static mode, or null when static mode does not handle its type.</summary>
    public static StaticOperatorKind? KindOf(NodeProto node, GraphEditor graph)
    {
        if (node.Domain.Length != 0 && node.Domain != "ai.onnx") return null;
        if (!Kinds.TryGetValue(node.OpType, out var kind)) return null;
        if (node.OpType == "Gather" && node.Input.Count > 0 && graph.TryGetConstant(node.Input[0], out _)) return StaticOperatorKind.TableLookup;
        return kind;
    }

    /// <summary>Indexes of the inputs that carry quantized data (the others, such as shapes and axes, stay as they are).</summary>
    public static IEnumerable<int> DataInputs(NodeProto node, StaticOperatorKind kind) => kind switch
    {
        StaticOperatorKind.Product or StaticOperatorKind.Binary => new[] { 0, 1 },
        StaticOperatorKind.Unary when node.OpType == "Concat" => Enumerable.Range(0, node.Input.Count),
        StaticOperatorKind.TableLookup => Array.Empty<int>(),
        _ => new[] { 0 },
    };

    /// <summary>The per-channel axis of a product's weight: Conv 0, MatMul 1 (columns), Gemm 0 when transB else 1.</summary>
    public static int WeightAxis(NodeProto node) => node.OpType switch
    {
        "Conv" => 0,
        "Gemm" => NodeAttributes.GetInt(node, "transB", 0) != 0 ? 0 : 1,
        _ => 1,
    };

    /// <summary>The lowest default-domain opset at which the operator runs on 8-bit data in ONNX Runtime.</summary>
    public static int MinimumOpsetOn8Bit(string opType) => opType switch
    {
        "MaxPool" => 12,
        "Resize" => 11,
        _ => 1,
    };
}
