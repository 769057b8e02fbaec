using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Emitters;

/// <summary>
/// What operators need to write a dynamically quantized graph: shared run-time quantization of activations and
/// fused nodes, on top of <see cref="EmitContext"/>.
/// </summary>
internal sealed class DynamicEmitContext : EmitContext
{
    private readonly Dictionary<string, (string Quantized, string Scale, string ZeroPoint)> _dynamicInputs = new(StringComparer.Ordinal);

    /// <summary>Starts a dynamic rewrite.</summary>
    public DynamicEmitContext(GraphEditor graph, QuantizationOptions options)
        : base(graph, options)
    {
    }

    /// <summary>
    /// The uint8 run-time quantization of an activation: one DynamicQuantizeLinear per tensor, shared by every
    /// consumer (opset 11+).
    /// </summary>
    public (string Quantized, string Scale, string ZeroPoint) DynamicallyQuantize(string valueName)
    {
        if (_dynamicInputs.TryGetValue(valueName, out var existing)) return existing;
        var stem = Sanitize(valueName);
        var outputs = (Graph.UniqueName($"{stem}_quantized"), Graph.UniqueName($"{stem}_scale"), Graph.UniqueName($"{stem}_zero_point"));
        AddNode("DynamicQuantizeLinear", "", $"{stem}_DynamicQuantizeLinear", new[] { valueName }, new[] { outputs.Item1, outputs.Item2, outputs.Item3 });
        _dynamicInputs[valueName] = outputs;
        return outputs;
    }

    /// <summary>The domain for DequantizeLinear: ONNX from opset 10, else ONNX Runtime's contrib version.</summary>
    public string DequantizeLinearDomain => (Graph.OpsetVersion("") ?? 0) >= 10 ? "" : MicrosoftDomain;


}
