using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>Gemm with alpha = beta = 1, transA = 0 and a constant B, rewritten as a quantized matrix product.</summary>
internal sealed class GemmQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public string OpType => "Gemm";

    /// <inheritdoc />
    public string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options)
    {
        if (NodeAttributes.GetFloat(node, "alpha", 1f) != 1f) return "alpha is not 1";
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && NodeAttributes.GetFloat(node, "beta", 1f) != 1f) return "beta is not 1";
        if (NodeAttributes.GetInt(node, "transA", 0) != 0) return "transA is set";
        return WeightChecks.CheckConstantFloat(graph, node, 1, "weight B", options, 2)
            ?? WeightChecks.CheckRuntimeInput(graph, node, 0, "input A");
    }

    /// <inheritdoc />
    public string EmitDynamic(NodeProto node, DynamicEmitContext context)
    {
        bool transB = NodeAttributes.GetInt(node, "transB", 0) != 0;
        string? bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? node.Input[2] : null;
        return MatrixProductWriter.Write(context, node, node.Input[0], node.Input[1], transB, bias, node.Output[0]);
    }
}
