using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators.Static;

namespace MLNet.Quantization.Operators;

/// <summary>The one table of operators static mode quantizes, each with its family (which checks and writes it).</summary>
internal static class StaticOperators
{
    private static readonly ProductFamily Products = new();
    private static readonly BinaryFamily Binaries = new();
    private static readonly UnaryFamily Unaries = new();
    private static readonly PassThroughFamily PassThroughs = new();
    private static readonly FoldedActivationFamily FoldedActivations = new();
    private static readonly TableLookupFamily TableLookups = new();

    private static readonly Dictionary<string, StaticOperatorFamily> Families = new(StringComparer.Ordinal)
    {
        ["Conv"] = Products,
        ["MatMul"] = Products,
        ["Gemm"] = Products,
        ["Add"] = Binaries,
        ["Mul"] = Binaries,
        ["AveragePool"] = Unaries,
        ["GlobalAveragePool"] = Unaries,
        ["Sigmoid"] = Unaries,
        ["Softmax"] = Unaries,
        ["Concat"] = Unaries,
        ["MaxPool"] = PassThroughs,
        ["Reshape"] = PassThroughs,
        ["Transpose"] = PassThroughs,
        ["Flatten"] = PassThroughs,
        ["Squeeze"] = PassThroughs,
        ["Unsqueeze"] = PassThroughs,
        ["Slice"] = PassThroughs,
        ["Resize"] = PassThroughs,
        ["Gather"] = PassThroughs,
        ["Relu"] = FoldedActivations,
        ["Clip"] = FoldedActivations,
    };

    /// <summary>
    /// Supported but not quantized unless asked for: Softmax's input is often logits with an additive mask (-10000),
    /// whose range leaves 8 bits no precision for the values that matter.
    /// </summary>
    private static readonly HashSet<string> OffByDefault = new(StringComparer.Ordinal) { "Softmax" };

    /// <summary>Every operator type static mode can quantize, in table order.</summary>
    public static IReadOnlyList<string> SupportedOpTypes { get; } = Families.Keys.ToArray();

    /// <summary>The operator types static mode quantizes when the caller names none.</summary>
    public static IReadOnlyList<string> DefaultOpTypes { get; } = Families.Keys.Where(op => !OffByDefault.Contains(op)).ToArray();

    /// <summary>The family of a default-domain node in static mode (a Gather over a constant is a table lookup), or null when static mode does not handle its type.</summary>
    public static StaticOperatorFamily? FamilyOf(NodeProto node, GraphEditor graph)
    {
        if (node.Domain.Length != 0 && node.Domain != "ai.onnx") return null;
        if (!Families.TryGetValue(node.OpType, out var family)) return null;
        if (node.OpType == "Gather" && node.Input.Count > 0 && graph.TryGetConstant(node.Input[0], out _)) return TableLookups;
        return family;
    }
}
