using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Planning;

/// <summary>
/// How a weight-only node's constant is laid out: the value, its K (reduction) and N (output) sizes, and whether it is
/// stored [N, K] (a Gemm's B with transB, or an embedding table read row by row) rather than a MatMul's [K, N].
/// </summary>
/// <param name="Value">The constant's value name (B of MatMul/Gemm, the table of Gather).</param>
/// <param name="Tensor">The constant.</param>
/// <param name="K">Length of the reduction axis (a table's row width).</param>
/// <param name="N">Outputs (a table's rows).</param>
/// <param name="Transposed">Stored as [N, K].</param>
internal sealed record WeightLayout(string Value, TensorProto Tensor, int K, int N, bool Transposed)
{
    /// <summary>The layout of a planned MatMul, Gemm or Gather node's constant.</summary>
    public static WeightLayout Of(GraphEditor graph, NodeProto node)
    {
        bool gather = node.OpType == "Gather";
        var value = gather ? node.Input[0] : node.Input[1];
        graph.TryGetConstant(value, out var tensor);
        bool transposed = gather || node.OpType == "Gemm" && NodeAttributes.GetInt(node, "transB", 0) != 0;
        return new WeightLayout(value, tensor, (int)(transposed ? tensor.Dims[1] : tensor.Dims[0]), (int)(transposed ? tensor.Dims[0] : tensor.Dims[1]), transposed);
    }
}
