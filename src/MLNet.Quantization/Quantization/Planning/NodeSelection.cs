using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Planning;

/// <summary>The options' choice of nodes: operator types, names to exclude (and overrides' keep-float), names to include.</summary>
internal sealed class NodeSelection
{
    private readonly IReadOnlySet<string> _opTypes;
    private readonly HashSet<string> _include;
    private readonly HashSet<string> _exclude;

    /// <summary>Reads the selection from <paramref name="options"/>.</summary>
    public NodeSelection(QuantizationOptions options)
    {
        _opTypes = options.EffectiveOpTypes();
        _include = new HashSet<string>(options.NodesToQuantize, StringComparer.Ordinal);
        _exclude = new HashSet<string>(options.ExcludedNodes, StringComparer.Ordinal);
    }

    /// <summary>Why the options leave <paramref name="node"/> float, or null when they select it.</summary>
    public string? Reason(NodeProto node) =>
        !_opTypes.Contains(node.OpType) ? $"operator type {node.OpType} is not selected"
        : _exclude.Contains(node.Name) ? "excluded by name"
        : _include.Count > 0 && !_include.Contains(node.Name) ? "not in the list of nodes to quantize"
        : null;
}
