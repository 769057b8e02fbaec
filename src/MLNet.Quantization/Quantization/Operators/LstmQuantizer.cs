using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Operators;

/// <summary>LSTM with constant W and R, rewritten as com.microsoft.DynamicQuantizeLSTM.</summary>
internal sealed class LstmQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public string OpType => "LSTM";

    /// <inheritdoc />
    public string? Check(NodeProto node, GraphEditor graph, QuantizationOptions options)
    {
        if (NodeAttributes.GetInt(node, "layout", 0) != 0) return "layout = 1 (batch-first) is not supported by DynamicQuantizeLSTM";
        return WeightChecks.CheckConstantFloat(graph, node, 1, "weight W", options, 3)
            ?? WeightChecks.CheckConstantFloat(graph, node, 2, "recurrence weight R", options with { MinimumWeightElements = 0 }, 3);
    }

    /// <inheritdoc />
    public string EmitDynamic(NodeProto node, DynamicEmitContext context)
    {
        var w = QuantizeGateWeight(node.Input[1], context);
        var r = QuantizeGateWeight(node.Input[2], context);
        var inputs = new List<string> { node.Input[0], w.Data, r.Data };
        for (int i = 3; i < 8; i++) inputs.Add(i < node.Input.Count ? node.Input[i] : "");
        inputs.AddRange(new[] { w.Scale, w.ZeroPoint, r.Scale, r.ZeroPoint });
        var stem = DynamicEmitContext.Sanitize(node.Name.Length > 0 ? node.Name : node.Output[0]);
        var lstm = new NodeProto { OpType = "DynamicQuantizeLSTM", Domain = DynamicEmitContext.MicrosoftDomain, Name = context.Graph.UniqueName($"{stem}_DynamicQuantizeLSTM") };
        lstm.Input.AddRange(inputs);
        lstm.Output.AddRange(node.Output);
        lstm.Attribute.AddRange(node.Attribute.Where(a => a.Name != "layout"));
        context.Graph.EnsureOpset(DynamicEmitContext.MicrosoftDomain, 1);
        context.Nodes.Add(lstm);
        return $"DynamicQuantizeLSTM, weights int8 {(context.Options.PerChannel ? "per-gate-column" : "per-direction")}";
    }

    /// <summary>
    /// ONNX stores gate weights [directions, 4·hidden, inputs]; DynamicQuantizeLSTM wants [directions, inputs, 4·hidden]
    /// with scales [directions] or [directions, 4·hidden]. Each direction is quantized on its own.
    /// </summary>
    private static WeightInitializers QuantizeGateWeight(string name, DynamicEmitContext context)
    {
        var options = context.Options;
        return context.QuantizeWeight(
            name,
            $"lstm|{options.PerChannel}|{options.EffectiveReduceRange}",
            (values, dims) => (WeightQuantizer.TransposeLastTwo(values, dims, out var t), t),
            (values, dims) => QuantizePerDirection(values, dims, options),
            q => options.PerChannel ? new[] { q.Dims[0], q.Dims[2] } : new[] { q.Dims[0] });
    }

    private static QuantizedTensor QuantizePerDirection(ReadOnlySpan<float> values, long[] dims, QuantizationOptions options)
    {
        int directions = (int)dims[0];
        int perDirection = values.Length / directions;
        var data = new byte[values.Length];
        var parameters = new List<QuantParams>();
        for (int d = 0; d < directions; d++)
        {
            var slice = values.Slice(d * perDirection, perDirection);
            var q = WeightQuantizer.Quantize(slice, new[] { dims[1], dims[2] }, QuantizedType.Int8, symmetric: true, options.EffectiveReduceRange, options.PerChannel ? 1 : null);
            q.Data.CopyTo(data, d * perDirection);
            parameters.AddRange(q.Parameters);
        }
        return new QuantizedTensor(data, dims, QuantizedType.Int8, parameters.ToArray(), options.PerChannel ? 2 : 0);
    }
}
