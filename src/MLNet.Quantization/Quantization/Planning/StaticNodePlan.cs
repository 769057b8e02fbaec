using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;
using MLNet.Quantization.Operators.Static;

namespace MLNet.Quantization.Planning;

/// <summary>How one node is quantized in static mode: which inputs are activations, which are constants.</summary>
internal sealed class StaticNodePlan
{
    /// <summary>Creates the plan entry for a node.</summary>
    public StaticNodePlan(NodeProto node, string displayName, StaticOperatorFamily family)
    {
        Node = node;
        DisplayName = displayName;
        Family = family;
    }

    /// <summary>The node.</summary>
    public NodeProto Node { get; }

    /// <summary>The node's name for reports.</summary>
    public string DisplayName { get; }

    /// <summary>The node's position in the graph it was planned on (stable across copies of that graph).</summary>
    public int GraphIndex { get; init; }

    /// <summary>The node's operator family, which checks and writes it.</summary>
    public StaticOperatorFamily Family { get; }

    /// <summary>The node's role.</summary>
    public StaticOperatorKind Kind => Family.Kind;

    /// <summary>Input indexes holding run-time float activations to quantize.</summary>
    public List<int> ActivationInputs { get; } = new();

    /// <summary>Input index of a product's constant weight (Conv W, MatMul B, Gemm B), if any.</summary>
    public int? WeightInput { get; set; }

    /// <summary>Input index of a constant bias (Conv B, Gemm C) stored as int32 with scale input × weight scale.</summary>
    public int? BiasInput { get; set; }
}
