using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Emitters;

/// <summary>
/// Writes a static plan in QDQ form: each quantized activation gets one QuantizeLinear → DequantizeLinear pair read
/// by the quantized nodes; weights are 8-bit initializers behind a DequantizeLinear; biases are int32 (opset 13+).
/// Float nodes keep reading the float tensors, except a Conv's output, which every reader takes dequantized so
/// ONNX Runtime can fuse the Conv into QLinearConv.
/// </summary>
internal static class QdqEmitter
{
    /// <summary>Rewrites the graph and returns a report line per quantized node.</summary>
    public static List<NodeReport> Emit(StaticEmitContext context)
    {
        var plan = context.Plan;
        context.QuantizeTables();
        var dequantized = new Dictionary<string, string>(StringComparer.Ordinal);
        var everyReaderDequantizes = new HashSet<string>(StringComparer.Ordinal);
        var reports = new List<NodeReport>();

        string Dequantized(string tensor)
        {
            if (dequantized.TryGetValue(tensor, out var name)) return name;
            var (scale, zeroPoint) = context.ParameterInitializers(tensor);
            var stem = EmitContext.Sanitize(tensor);
            var quantized = context.AddNode("QuantizeLinear", context.QdqDomain, $"{stem}_QuantizeLinear", new[] { tensor, scale, zeroPoint }, new[] { context.Graph.UniqueName($"{stem}_quantized") });
            name = context.AddNode("DequantizeLinear", context.QdqDomain, $"{stem}_DequantizeLinear", new[] { quantized, scale, zeroPoint }, new[] { context.Graph.UniqueName($"{stem}_dequantized") });
            dequantized[tensor] = name;
            return name;
        }

        foreach (var node in context.Graph.Graph.Node.ToList())
        {
            if (plan.FoldedActivations.Contains(node))
            {
                reports.Add(new NodeReport(plan.Nodes[node].DisplayName, node.OpType, true, "folded into the range of the tensor it produces"));
                continue;
            }
            var copy = node.Clone();
            if (plan.RenamedOutputs.TryGetValue(node, out var renamed)) copy.Output[0] = renamed;
            if (!plan.Nodes.TryGetValue(node, out var entry))
            {
                for (int i = 0; i < copy.Input.Count; i++)
                    if (everyReaderDequantizes.Contains(copy.Input[i])) copy.Input[i] = dequantized[copy.Input[i]];
                context.Nodes.Add(copy);
                continue;
            }

            string detail;
            if (entry.Kind == StaticOperatorKind.TableLookup)
            {
                var table = context.Table(node.Input[0], node.Output[0]);
                var stem = EmitContext.Sanitize(copy.Output[0]);
                copy.Input[0] = table.Data;
                var gathered = context.Graph.UniqueName($"{stem}_quantized");
                var output = copy.Output[0];
                copy.Output[0] = gathered;
                context.Nodes.Add(copy);
                context.AddNode("DequantizeLinear", context.QdqDomain, $"{stem}_DequantizeLinear", new[] { gathered, table.Scale, table.ZeroPoint }, new[] { output });
                dequantized[output] = output;
                detail = "8-bit table gathered, then dequantized";
            }
            else
            {
                foreach (var i in entry.ActivationInputs) copy.Input[i] = Dequantized(node.Input[i]);
                detail = WriteConstants(context, entry, copy);
                context.Nodes.Add(copy);
                if (node.OpType == "Conv")
                {
                    Dequantized(copy.Output[0]);
                    everyReaderDequantizes.Add(copy.Output[0]);
                }
            }
            reports.Add(new NodeReport(entry.DisplayName, node.OpType, true, $"QDQ: {detail}"));
        }
        context.Graph.Graph.Node.Clear();
        context.Graph.Graph.Node.AddRange(context.Nodes);
        return reports;
    }

    private static string WriteConstants(StaticEmitContext context, StaticNodePlan entry, NodeProto copy)
    {
        var node = entry.Node;
        var parts = new List<string> { $"activations {context.Options.ActivationType.ToString().ToLowerInvariant()}" };
        foreach (var i in entry.ConstantOperands)
        {
            var constant = context.ConstantAsActivation(node.Input[i], node.Input[i]);
            copy.Input[i] = Dequantize(context, constant, node.Input[i], axis: null);
            parts.Add("constant operand 8-bit");
        }
        if (entry.WeightInput is not int w) return string.Join(", ", parts);

        int axis = StaticOperators.WeightAxis(node);
        var weight = context.Weight(node.Input[w], axis);
        copy.Input[w] = Dequantize(context, weight, node.Input[w], weight.Tensor.Axis);
        parts.Add($"weight {weight.Tensor.Type.ToString().ToLowerInvariant()} {(weight.Tensor.Axis is null ? "per-tensor" : "per-channel")}");
        if (entry.BiasInput is int b)
        {
            var inputParameters = context.ActivationParameters(node.Input[0]);
            var (data, scale) = context.Bias(node.Input[b], inputParameters, weight);
            var stem = EmitContext.Sanitize(node.Input[b]);
            int count = weight.Tensor.Parameters.Length;
            var inputs = new[] { data, scale, context.Int32Zeros(stem, count) };
            var attributes = count > 1 ? new[] { OnnxAttribute.Int("axis", 0).Proto } : Array.Empty<AttributeProto>();
            copy.Input[b] = context.AddNode("DequantizeLinear", context.QdqDomain, $"{stem}_DequantizeLinear", inputs, new[] { context.Graph.UniqueName($"{stem}_dequantized") }, attributes);
            parts.Add("bias int32");
        }
        return string.Join(", ", parts);
    }

    private static string Dequantize(StaticEmitContext context, WeightInitializers weight, string original, int? axis)
    {
        var stem = EmitContext.Sanitize(original);
        var attributes = axis is int a ? new[] { OnnxAttribute.Int("axis", a).Proto } : Array.Empty<AttributeProto>();
        return context.AddNode("DequantizeLinear", context.QdqDomain, $"{stem}_DequantizeLinear", new[] { weight.Data, weight.Scale, weight.ZeroPoint }, new[] { context.Graph.UniqueName($"{stem}_dequantized") }, attributes);
    }
}
