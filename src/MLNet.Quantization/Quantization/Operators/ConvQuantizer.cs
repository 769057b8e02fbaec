using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Operators;

/// <summary>
/// Conv with a constant weight, rewritten as DynamicQuantizeLinear → ConvInteger → Cast → Mul (+ bias). Only used when
/// <see cref="QuantizationOptions.QuantizeConv"/> is on, because ONNX Runtime's CPU ConvInteger is slower than float Conv.
/// </summary>
internal sealed class ConvQuantizer : IOperatorQuantizer
{
    /// <summary>Why Conv stays float by default; shown in reports.</summary>
    public const string SlowerThanFloatReason = "Conv stays float by default: ONNX Runtime's CPU ConvInteger is slower than float Conv (set QuantizeConv to trade speed for size)";

    /// <inheritdoc />
    public string OpType => "Conv";

    /// <inheritdoc />
    public string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options)
    {
        if ((graph.OpsetVersion("") ?? 0) < 11) return "ConvInteger needs DynamicQuantizeLinear, which needs opset 11; the model imports an older opset";
        return WeightChecks.CheckConstantFloat(graph, node, 1, "weight W", options)
            ?? WeightChecks.CheckRuntimeInput(graph, node, 0, "input X");
    }

    /// <inheritdoc />
    public string EmitDynamic(NodeProto node, DynamicEmitContext context)
    {
        var options = context.Options;
        var weights = context.QuantizeWeight(
            node.Input[1],
            $"conv|uint8|{options.EffectiveReduceRange}",
            null,
            (values, dims) => WeightQuantizer.Quantize(values, dims, QuantizedType.UInt8, symmetric: false, options.EffectiveReduceRange, axis: null),
            _ => Array.Empty<long>());
        var stem = DynamicEmitContext.Sanitize(node.Name.Length > 0 ? node.Name : node.Output[0]);
        var (xq, xScale, xZero) = context.DynamicallyQuantize(node.Input[0]);
        var graph = context.Graph;
        var integer = context.AddNode("ConvInteger", "", $"{stem}_ConvInteger", new[] { xq, weights.Data, xZero, weights.ZeroPoint }, new[] { graph.UniqueName($"{stem}_int32") }, node.Attribute.ToArray());
        var asFloat = context.AddNode("Cast", "", $"{stem}_Cast", new[] { integer }, new[] { graph.UniqueName($"{stem}_int32_float") }, OnnxAttribute.Int("to", (long)DataType.Float).Proto);
        var scale = context.AddNode("Mul", "", $"{stem}_scale_Mul", new[] { xScale, weights.Scale }, new[] { graph.UniqueName($"{stem}_output_scale") });
        bool hasBias = node.Input.Count > 2 && node.Input[2].Length > 0;
        var scaledOutput = hasBias ? graph.UniqueName($"{stem}_scaled") : node.Output[0];
        context.AddNode("Mul", "", $"{stem}_output_Mul", new[] { asFloat, scale }, new[] { scaledOutput });
        if (hasBias)
        {
            int spatialDims = (int)weights.Tensor.Dims.Length - 2;
            var shape = new long[] { -1 }.Concat(Enumerable.Repeat(1L, spatialDims)).ToArray();
            var shapeName = graph.UniqueName($"{stem}_bias_shape");
            graph.AddInitializer(TensorData.FromInt64(shapeName, new long[] { shape.Length }, shape));
            var reshaped = context.AddNode("Reshape", "", $"{stem}_bias_Reshape", new[] { node.Input[2], shapeName }, new[] { graph.UniqueName($"{stem}_bias_reshaped") });
            context.AddNode("Add", "", $"{stem}_bias_Add", new[] { scaledOutput, reshaped }, new[] { node.Output[0] });
        }
        return "DynamicQuantizeLinear + ConvInteger, weight uint8 per-tensor";
    }
}
