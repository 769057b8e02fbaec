using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Operators.Static;

/// <summary>
/// Conv, MatMul, Gemm: integer products with a constant weight (int8 symmetric, per channel when asked) and an int32
/// bias; a MatMul of two activations too. QOperator: QLinearConv, QLinearMatMul or MatMulIntegerToFloat, QGemm.
/// </summary>
internal sealed class ProductFamily : StaticOperatorFamily
{
    /// <inheritdoc />
    public override StaticOperatorKind Kind => StaticOperatorKind.Product;

    /// <summary>The per-channel axis of a product's weight: Conv 0, MatMul 1 (columns), Gemm 0 when transB else 1.</summary>
    public static int WeightAxis(NodeProto node) => node.OpType switch
    {
        "Conv" => 0,
        "Gemm" => NodeAttributes.GetInt(node, "transB", 0) != 0 ? 0 : 1,
        _ => 1,
    };

    /// <inheritdoc />
    public override string? Check(StaticNodePlan entry, GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, long opset)
    {
        var node = entry.Node;
        if (!floatTensors.Contains(node.Input[0])) return "input A is not a float32 run-time value";
        entry.ActivationInputs.Add(0);
        if (node.OpType == "MatMul" && floatTensors.Contains(node.Input[1]))
        {
            entry.ActivationInputs.Add(1);
            return null;
        }
        if (node.OpType == "Gemm")
        {
            if (NodeAttributes.GetInt(node, "transA", 0) != 0) return "Gemm with transA = 1 is not quantized";
            if (NodeAttributes.GetFloat(node, "alpha", 1f) != 1f || NodeAttributes.GetFloat(node, "beta", 1f) != 1f) return "Gemm with alpha or beta other than 1 is not quantized";
        }
        int[] ranks = node.OpType == "Conv" ? new[] { 3, 4, 5 } : new[] { 2 };
        if (WeightChecks.CheckConstantFloat(graph, node, 1, "weight", options, ranks) is { } reason) return reason;
        entry.WeightInput = 1;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (!graph.TryGetConstant(node.Input[2], out var bias) || bias.DataType != (int)DataType.Float || bias.Dims.Count != 1)
                return "its bias is not a constant float vector";
            entry.BiasInput = 2;
        }
        return null;
    }

    /// <inheritdoc />
    public override string WriteQdq(QdqWriter writer, StaticNodePlan entry, NodeProto copy)
    {
        var context = writer.Context;
        var node = entry.Node;
        var parts = new List<string> { ActivationsDetail(writer) };
        if (entry.WeightInput is int w) parts.AddRange(WriteQdqConstants(writer, entry, copy, w));
        context.Nodes.Add(copy);
        if (node.OpType == "Conv") writer.DequantizeForEveryReader(copy.Output[0]);
        return string.Join(", ", parts);
    }

    /// <summary>The weight behind a DequantizeLinear and the bias as int32 behind another; returns the report's notes.</summary>
    private static IEnumerable<string> WriteQdqConstants(QdqWriter writer, StaticNodePlan entry, NodeProto copy, int w)
    {
        var context = writer.Context;
        var node = entry.Node;
        var parts = new List<string>();

        var weight = context.Weight(node.Input[w], WeightAxis(node));
        copy.Input[w] = writer.Dequantize(weight, node.Input[w], weight.Tensor.Axis);
        parts.Add($"weight {weight.Tensor.Type.ToString().ToLowerInvariant()} {(weight.Tensor.Axis is null ? "per-tensor" : "per-channel")}");
        if (entry.BiasInput is int b)
        {
            var (data, scale) = context.Bias(node.Input[b], context.ActivationParameters(node.Input[0]), weight);
            var stem = EmitContext.Sanitize(node.Input[b]);
            int count = weight.Tensor.Parameters.Length;
            var attributes = count > 1 ? new[] { OnnxAttribute.Int("axis", 0).Proto } : Array.Empty<AttributeProto>();
            copy.Input[b] = context.AddNode("DequantizeLinear", context.QdqDomain, $"{stem}_DequantizeLinear", new[] { data, scale, context.Int32Zeros(stem, count) }, new[] { context.Graph.UniqueName($"{stem}_dequantized") }, attributes);
            parts.Add("bias int32");
        }
        return parts;
    }

    /// <inheritdoc />
    public override string WriteQOperator(QOperatorWriter writer, StaticNodePlan entry, string outputName, string output)
    {
        var context = writer.Context;
        var node = entry.Node;
        string? quantizedOutput = context.Plan.ActivationTensors.Contains(output) ? output : null;
        var a = writer.Quantized(node.Input[0]);
        (string Data, string Scale, string ZeroPoint) b;
        WeightInitializers? weight = null;
        if (entry.WeightInput is int w)
        {
            weight = context.Weight(node.Input[w], WeightAxis(node));
            b = (weight.Data, weight.Scale, weight.ZeroPoint);
        }
        else b = writer.Quantized(node.Input[1]);
        string? bias = null;
        if (entry.BiasInput is int biasIndex && weight is not null)
            bias = context.Bias(node.Input[biasIndex], context.ActivationParameters(node.Input[0]), weight).Data;
        var y = quantizedOutput is null ? default : context.ParameterInitializers(quantizedOutput);
        var stem = QOperatorWriter.StemOf(node, outputName);
        var weightText = weight is null ? "both inputs 8-bit" : $"weight {(weight.Tensor.Axis is null ? "per-tensor" : "per-channel")}";
        switch (node.OpType)
        {
            case "Conv":
                var convInputs = new List<string> { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, y.Scale, y.ZeroPoint };
                if (bias is not null) convInputs.Add(bias);
                writer.Add("QLinearConv", "", stem, convInputs, outputName, node.Attribute);
                return $"QLinearConv, {weightText}{(bias is null ? "" : ", bias int32")}";
            case "Gemm":
                var gemmInputs = new List<string> { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, bias ?? "" };
                if (quantizedOutput is not null) { gemmInputs.Add(y.Scale); gemmInputs.Add(y.ZeroPoint); }
                writer.Add("QGemm", EmitContext.MicrosoftDomain, stem, gemmInputs, outputName, node.Attribute.Where(x => x.Name is "transA" or "transB" or "alpha"));
                return $"QGemm ({(quantizedOutput is null ? "float" : "8-bit")} output), {weightText}";
            default:
                if (quantizedOutput is null)
                {
                    var operands = new List<string> { a.Data, b.Data, a.Scale, b.Scale, a.ZeroPoint, b.ZeroPoint };
                    if (weight is not null && context.TryFuseBiasAdd(outputName, weight.Tensor.Dims[1]) is { } fused)
                    {
                        operands.Add(fused.Bias);
                        outputName = fused.Output;
                    }
                    writer.Add("MatMulIntegerToFloat", EmitContext.MicrosoftDomain, stem, operands, outputName, Array.Empty<AttributeProto>());
                    return $"MatMulIntegerToFloat{(operands.Count > 6 ? " (bias Add folded in)" : "")}, {weightText}";
                }
                writer.Add("QLinearMatMul", "", stem, new[] { a.Data, a.Scale, a.ZeroPoint, b.Data, b.Scale, b.ZeroPoint, y.Scale, y.ZeroPoint }, outputName, Array.Empty<AttributeProto>());
                return $"QLinearMatMul, {weightText}";
        }
    }
}
