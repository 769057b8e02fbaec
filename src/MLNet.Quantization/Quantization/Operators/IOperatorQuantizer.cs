using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>Quantization of one operator family: whether a node qualifies, and how it is rewritten.</summary>
internal interface IOperatorQuantizer
{
    /// <summary>The ONNX operator type handled (default domain).</summary>
    string OpType { get; }

    /// <summary>Null when the node can be quantized; otherwise the reason it stays float.</summary>
    string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options);

    /// <summary>Writes the dynamically quantized replacement of the node into the context.</summary>
    /// <returns>A short description of what was written, for the report.</returns>
    string EmitDynamic(NodeProto node, DynamicEmitContext context);
}
