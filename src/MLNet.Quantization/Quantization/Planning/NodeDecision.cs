using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;

namespace MLNet.Quantization.Planning;

/// <summary>What the planner decided for one candidate node.</summary>
/// <param name="Node">The node.</param>
/// <param name="DisplayName">The node's name, or a generated one when it has none.</param>
/// <param name="Operator">The quantizer that rewrites it, or null when it stays float.</param>
/// <param name="Reason">Why it stays float (null when quantized).</param>
internal sealed record NodeDecision(NodeProto Node, string DisplayName, IOperatorQuantizer? Operator, string? Reason)
{
    /// <summary>Whether the node will be quantized.</summary>
    public bool Quantize => Operator is not null;
}
