using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Operators;

/// <summary>Writes a dynamically quantized A × B (+ bias) in the form the options ask for.</summary>
internal static class MatrixProductWriter
{
    /// <summary>
    /// Writes the replacement of <paramref name="node"/>. B is stored [K, N] (transposed first when
    /// <paramref name="transposeWeight"/>), quantized per column when per-channel is on. A bias is either given
    /// (Gemm's C) or taken from a following Add that can be folded in.
    /// </summary>
    public static string Write(DynamicEmitContext context, NodeProto node, string input, string weight, bool transposeWeight, string? bias, string output)
    {
        var options = context.Options;
        bool symmetric = options.WeightType == QuantizedType.Int8 && options.SymmetricWeights;
        var weights = context.QuantizeWeight(
            weight,
            $"matmul|T{transposeWeight}|{options.WeightType}|{symmetric}|{options.PerChannel}|{options.EffectiveReduceRange}",
            transposeWeight ? (values, dims) => (WeightQuantizer.TransposeLastTwo(values, dims, out var t), t) : null,
            (values, dims) => WeightQuantizer.Quantize(values, dims, options.WeightType, symmetric, options.EffectiveReduceRange, options.PerChannel ? 1 : null),
            q => q.Axis is null ? Array.Empty<long>() : new[] { q.Dims[1] });
        long columns = weights.Tensor.Dims[1];

        string? biasInput = null;
        string? gemmBiasToAdd = null;
        if (bias is not null)
        {
            if (context.Graph.TryGetConstant(bias, out var c) && c.DataType == (int)DataType.Float && c.Dims.Count == 1 && c.Dims[0] == columns)
                biasInput = context.AsInitializer(bias, c);
            else
                gemmBiasToAdd = bias;
        }

        bool chain = options.MatMulForm == DynamicMatMulForm.OperatorChain && (context.Graph.OpsetVersion("") ?? 0) >= 11;
        string finalOutput = output;
        if (biasInput is null && gemmBiasToAdd is null && !chain && context.TryFuseBiasAdd(output, columns) is { } fused)
        {
            biasInput = fused.Bias;
            finalOutput = fused.Output;
        }

        var stem = DynamicEmitContext.Sanitize(node.Name.Length > 0 ? node.Name : output);
        string productOutput = gemmBiasToAdd is null && (biasInput is null || !chain) ? finalOutput : context.Graph.UniqueName($"{stem}_product");
        string description;
        if (chain)
        {
            var (aq, aScale, aZero) = context.DynamicallyQuantize(input);
            var integer = context.AddNode("MatMulInteger", "", $"{stem}_MatMulInteger", new[] { aq, weights.Data, aZero, weights.ZeroPoint }, new[] { context.Graph.UniqueName($"{stem}_int32") });
            var asFloat = context.AddNode("Cast", "", $"{stem}_Cast", new[] { integer }, new[] { context.Graph.UniqueName($"{stem}_int32_float") }, Onnx.OnnxAttribute.Int("to", (long)DataType.Float).Proto);
            var scale = context.AddNode("Mul", "", $"{stem}_scale_Mul", new[] { aScale, weights.Scale }, new[] { context.Graph.UniqueName($"{stem}_output_scale") });
            context.AddNode("Mul", "", $"{stem}_output_Mul", new[] { asFloat, scale }, new[] { productOutput });
            if (biasInput is not null) context.AddNode("Add", "", $"{stem}_bias_Add", new[] { productOutput, biasInput }, new[] { finalOutput });
            description = "DynamicQuantizeLinear + MatMulInteger";
        }
        else
        {
            var inputs = new List<string> { input, weights.Data, weights.Scale, weights.ZeroPoint };
            if (biasInput is not null) inputs.Add(biasInput);
            context.AddNode("DynamicQuantizeMatMul", DynamicEmitContext.MicrosoftDomain, $"{stem}_DynamicQuantizeMatMul", inputs, new[] { productOutput });
            description = biasInput is null ? "DynamicQuantizeMatMul" : "DynamicQuantizeMatMul (bias folded in)";
        }
        if (gemmBiasToAdd is not null) context.AddNode("Add", "", $"{stem}_bias_Add", new[] { productOutput, gemmBiasToAdd }, new[] { finalOutput });
        return $"{description}, weight {weights.Tensor.Type.ToString().ToLowerInvariant()} {(weights.Tensor.Axis is null ? "per-tensor" : "per-column")}";
    }
}
