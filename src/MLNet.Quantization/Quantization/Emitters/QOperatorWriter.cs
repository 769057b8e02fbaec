using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Emitters;

/// <summary>Writes one quantized node in QOperator form and keeps track of which tensors exist in 8-bit form.</summary>
internal sealed class QOperatorWriter
{
    private readonly StaticEmitContext _context;
    private readonly Dictionary<string, string> _quantized = new(StringComparer.Ordinal);

    /// <summary>Creates a writer over <paramref name="context"/>.</summary>
    public QOperatorWriter(StaticEmitContext context) => _context = context;

    /// <summary>Writes the node whose (possibly renamed) output is <paramref name="output"/>; returns the report detail.</summary>
    public string Write(StaticNodePlan entry, string output)
    {
        var node = entry.Node;
        bool quantizedOutput = _context.Plan.ActivationTensors.Contains(output);
        var outputName = quantizedOutput ? _context.Graph.UniqueName($"{EmitContext.Sanitize(output)}_quantized") : output;
        string detail = entry.Kind switch
        {
            StaticOperatorKind.Product => WriteProduct(entry, outputName, quantizedOutput ? output : null),
            StaticOperatorKind.Binary => WriteBinary(entry, outputName, output),
            StaticOperatorKind.Unary => WriteUnary(entry, outputName, output),
            StaticOperatorKind.PassThrough => WritePassThrough(node, outputName),
            StaticOperatorKind.TableLookup => WriteLookup(node, outputName),
            _ => throw new InvalidOperationException($"Unexpected role {entry.Kind}."),
        };
        if (quantizedOutput)
        {
            _quantized[output] = outputName;
            if (NeedsFloat(output))
            {
                var (scale, zeroPoint) = _context.ParameterInitializers(output);
                _context.AddNode("DequantizeLinear", "", $"{EmitContext.Sanitize(output)}_DequantizeLinear", new[] { outputName, scale, zeroPoint }, new[] { output });
            }
        }
        return detail;
    }

    private bool NeedsFloat(string tensor) =>
        _context.Graph.IsObservedOutsideMainGraph(tensor)
        || _context.Graph.Consumers(tensor).Any(c => !_context.Plan.Nodes.ContainsKey(c) || _context.Plan.FoldedActivations.Contains(c));

    /// <summary>The 8-bit form of an activation: produced by a quantized node, or quantized here on entry.</summary>
    private (string Data, string Scale, string ZeroPoint) Quantized(string tensor)
    {
        var (scale, zeroPoint) = _context.ParameterInitializers(tensor);
        if (!_quantized.TryGetValue(tensor, out var name))
        {
            var stem = EmitContext.Sanitize(tensor);
            name = _context.AddNode("QuantizeLinear", "", $"{stem}_QuantizeLinear", new[] { tensor, scale, zeroPoint }, new[] { _context.Graph.UniqueName($"{stem}_quantized") });
            _quantized[tensor] = name;
        }
        return (name, scale, zeroPoint);
    }

    private (string Data, string Scale, string ZeroPoint) Operand(StaticNodePlan entry, int index)
    {
        if (entry.ActivationInputs.Contains(index)) return Quantized(entry.Node.Input[index]);
        var constant = _context.ConstantAsActivation(entry.Node.Input[index], entry.Node.Input[index]);
        return (constant.Data, constant.Scale, constant.ZeroPoint);
    }

    private string WriteProduct(StaticNodePlan entry, string outputName, string? quantizedOutput)
    {
        var node = entry.Node;
        var a = Quantized(node.Input[0]);
        (string Data, string Scale, string ZeroPoint) b;
        WeightInitializers? weight = null;
        if (entry.WeightInput is int w)
        {
            weight = _context.Weight(node.Input[w], StaticOperators.WeightAxis(node));
            b = (weight.Data, weight.Scale, weight.ZeroPoint);
        }
        else
        {
            b = Quantized(node.Input[1]);
        }
        string? bias = null;
        if (entry.BiasInput is int biasIndex && weight is not null)
            bias = _context.Bias(node.Input[biasIndex], _context.ActivationParameters(node.Input[0]), weight).Data;
        var y = quantizedOutput is null ? default : _context.ParameterInitializers(quantizedOutput);
        var stem = EmitContext.Sanitize(node.Name.Length > 0 ? node.Name : outputName);
        var weightText = weight is null ? "both inputs 8-bit" : $"weight {(weight.Tensor.Axis is null ? "per-tensor" : "per-channel")}";
        switch (node.OpType)
        {
            case "Conv":
                var convInputs = new List<string> { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, y.Scale, y.ZeroPoint };
                if (bias is not null) convInputs.Add(bias);
                Add("QLinearConv", "", stem, convInputs, outputName, node.Attribute);
                return $"QLinearConv, {weightText}{(bias is null ? "" : ", bias int32")}";
            case "Gemm":
                var gemmInputs = new List<string> { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, bias ?? "" };
                if (quantizedOutput is not null) { gemmInputs.Add(y.Scale); gemmInputs.Add(y.ZeroPoint); }
                Add("QGemm", EmitContext.MicrosoftDomain, stem, gemmInputs, outputName, node.Attribute.Where(x => x.Name is "transA" or "transB" or "alpha"));
                return $"QGemm ({(quantizedOutput is null ? "float" : "8-bit")} output), {weightText}";
            default:
                if (quantizedOutput is null)
                {
                    var operands = new List<string> { a.Data, b.Data, a.Scale, b.Scale, a.ZeroPoint, b.ZeroPoint };
                    if (weight is not null && _context.TryFuseBiasAdd(outputName, weight.Tensor.Dims[1]) is { } fused)
                    {
                        operands.Add(fused.Bias);
                        outputName = fused.Output;
                    }
                    Add("MatMulIntegerToFloat", EmitContext.MicrosoftDomain, stem, operands, outputName, Array.Empty<AttributeProto>());
                    return $"MatMulIntegerToFloat{(operands.Count > 6 ? " (bias Add folded in)" : "")}, {weightText}";
                }
                Add("QLinearMatMul", "", stem, new[] { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, y.Scale, y.ZeroPoint }, outputName, Array.Empty<AttributeProto>());
                return $"QLinearMatMul, {weightText}";
        }
    }

    private string WriteBinary(StaticNodePlan entry, string outputName, string output)
    {
        var a = Operand(entry, 0);
        var b = Operand(entry, 1);
        var y = _context.ParameterInitializers(output);
        var op = entry.Node.OpType == "Add" ? "QLinearAdd" : "QLinearMul";
        Add(op, EmitContext.MicrosoftDomain, StemOf(entry.Node, outputName), new[] { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, y.Scale, y.ZeroPoint }, outputName, Array.Empty<AttributeProto>());
        return op;
    }

    private string WriteUnary(StaticNodePlan entry, string outputName, string output)
    {
        var node = entry.Node;
        var y = _context.ParameterInitializers(output);
        var stem = StemOf(node, outputName);
        if (node.OpType == "Concat")
        {
            var inputs = new List<string> { y.Scale, y.ZeroPoint };
            foreach (var i in entry.ActivationInputs) { var x = Quantized(node.Input[i]); inputs.AddRange(new[] { x.Data, x.Scale, x.ZeroPoint }); }
            Add("QLinearConcat", EmitContext.MicrosoftDomain, stem, inputs, outputName, node.Attribute);
            return "QLinearConcat";
        }
        var input = Quantized(node.Input[0]);
        var operands = new[] { input.Data, input.Scale, input.ZeroPoint, y.Scale, y.ZeroPoint };
        var attributes = node.Attribute.ToList();
        string op = "QLinear" + node.OpType;
        if (node.OpType == "GlobalAveragePool") attributes.Add(OnnxAttribute.Int("channels_last", 0).Proto);
        if (node.OpType == "Softmax")
        {
            if (!NodeAttributes.Has(node, "axis")) attributes.Add(OnnxAttribute.Int("axis", _context.Opset >= 13 ? -1 : 1).Proto);
            attributes.Add(OnnxAttribute.Int("opset", _context.Opset).Proto);
        }
        Add(op, EmitContext.MicrosoftDomain, stem, operands, outputName, attributes);
        return op;
    }

    private string WritePassThrough(NodeProto node, string outputName)
    {
        var copy = node.Clone();
        copy.Name = _context.Graph.UniqueName(StemOf(node, outputName) + "_8bit");
        copy.Input[0] = Quantized(node.Input[0]).Data;
        copy.Output[0] = outputName;
        _context.Nodes.Add(copy);
        return $"{node.OpType} on 8-bit data (input's scale reused)";
    }

    private string WriteLookup(NodeProto node, string outputName)
    {
        var table = _context.Table(node.Input[0], node.Output[0]);
        var copy = node.Clone();
        copy.Input[0] = table.Data;
        copy.Output[0] = outputName;
        _context.Nodes.Add(copy);
        return "Gather over the 8-bit table";
    }

    private void Add(string opType, string domain, string stem, IEnumerable<string> inputs, string output, IEnumerable<AttributeProto> attributes) =>
        _context.AddNode(opType, domain, $"{stem}_{opType}", inputs, new[] { output }, attributes.Select(a => a.Clone()).ToArray());

    private static string StemOf(NodeProto node, string output) => EmitContext.Sanitize(node.Name.Length > 0 ? node.Name : output);
}
