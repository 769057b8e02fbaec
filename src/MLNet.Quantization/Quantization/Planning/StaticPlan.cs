using MLNet.Quantization.Calibration;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Planning;

/// <summary>
/// What static quantization will do, independent of the output format: the nodes quantized, the activation
/// tensors that need a range, which tensors reuse another's scale, and which Relu/Clip nodes fold away.
/// </summary>
internal sealed class StaticPlan
{
    /// <summary>Quantized nodes by identity.</summary>
    public Dictionary<NodeProto, StaticNodePlan> Nodes { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Report entries for candidates left float, with the reason.</summary>
    public List<NodeReport> FloatNodes { get; } = new();

    /// <summary>Activation tensors quantized (by name in the float graph).</summary>
    public HashSet<string> ActivationTensors { get; } = new(StringComparer.Ordinal);

    /// <summary>Tensor → the tensor whose scale and zero point it reuses (pass-through outputs).</summary>
    public Dictionary<string, string> SharedParameters { get; } = new(StringComparer.Ordinal);

    /// <summary>Outputs of table lookups: their parameters are the table's.</summary>
    public HashSet<string> TableOutputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Relu/Clip nodes removed: the producer writes the activation's output directly.</summary>
    public HashSet<NodeProto> FoldedActivations { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Producer → the output name it takes over from a folded Relu/Clip.</summary>
    public Dictionary<NodeProto, string> RenamedOutputs { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Ranges of calibrated tensors (filled by calibration).</summary>
    public Dictionary<string, TensorRange> Ranges { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether a node is quantized.</summary>
    public bool IsQuantized(NodeProto node) => Nodes.ContainsKey(node);

    /// <summary>The tensors calibration must observe: quantized activations that neither share nor come from a table.</summary>
    public IEnumerable<string> TensorsToObserve() =>
        ActivationTensors.Where(t => !SharedParameters.ContainsKey(t) && !TableOutputs.Contains(t));

    /// <summary>The tensor whose parameters <paramref name="tensor"/> uses, following shares.</summary>
    public string ParameterSource(string tensor)
    {
        var current = tensor;
        for (int guard = 0; SharedParameters.TryGetValue(current, out var next) && guard < 10_000; guard++) current = next;
        return current;
    }
}
