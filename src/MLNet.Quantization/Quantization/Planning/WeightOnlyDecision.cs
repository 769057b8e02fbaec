using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Planning;

/// <summary>Weight-only mode's decision for one MatMul or Gemm node.</summary>
/// <param name="Node">The node.</param>
/// <param name="DisplayName">The node's name, or a generated one when it has none.</param>
/// <param name="Reason">Why it stays float; null when its weight is block-quantized.</param>
internal sealed record WeightOnlyDecision(NodeProto Node, string DisplayName, string? Reason)
{
    /// <summary>Bits for this node when mixed precision gives it more than <see cref="WeightOnlyOptions.Bits"/>; null otherwise.</summary>
    public int? Bits { get; init; }

    /// <summary>Whether the node will be rewritten.</summary>
    public bool Quantize => Reason is null;
}
