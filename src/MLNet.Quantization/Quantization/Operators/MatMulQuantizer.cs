using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>MatMul with a constant 2-D right-hand side (a linear layer's weight).</summary>
internal sealed class MatMulQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public string OpType => "MatMul";

    /// <inheritdoc />
    public string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options) =>
        WeightChecks.CheckConstantFloat(graph, node, 1, "weight B", options, 2)
        ?? WeightChecks.CheckRuntimeInput(graph, node, 0, "input A");

    /// <inheritdoc />
    public string EmitDynamic(NodeProto node, DynamicEmitContext context) =>
        MatrixProductWriter.Write(context, node, node.Input[0], node.Input[1], transposeWeight: false, bias: null, node.Output[0]);
}
