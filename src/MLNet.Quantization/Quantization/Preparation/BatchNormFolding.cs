using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Preparation;

/// <summary>
/// Folds BatchNormalization into the Conv before it (W' = W·γ/√(σ²+ε) per output channel,
/// b' = (b − μ)·γ/√(σ²+ε) + β), as ONNX Runtime does at load time for float models. Needed before static
/// quantization: a Q/DQ pair between Conv and BatchNormalization would block that fusion and quantize a tensor
/// that does not exist at run time.
/// </summary>
internal static class BatchNormFolding
{
    private const string FoldedSuffix = "_bn_folded";

    /// <summary>The user's name for a weight this class folded (<c>W_bn_folded</c> or <c>W_bn_folded_N</c> → <c>W</c>), or null.</summary>
    public static string? OriginalWeightName(string weight)
    {
        var match = System.Text.RegularExpressions.Regex.Match(weight, $"^(.+){FoldedSuffix}(_[0-9]+)?$");
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>Folds every eligible Conv → BatchNormalization pair; returns how many were folded.</summary>
    public static int Apply(GraphEditor graph)
    {
        int folded = 0;
        foreach (var norm in graph.Graph.Node.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0).ToList())
        {
            if (TryFold(graph, norm)) folded++;
        }
        if (folded > 0) graph.RemoveUnusedValues();
        return folded;
    }

    private static bool TryFold(GraphEditor graph, NodeProto norm)
    {
        if (norm.Output.Count(o => o.Length > 0) != 1 || norm.Input.Count != 5) return false;
        var conv = graph.Producer(norm.Input[0]);
        if (conv is null || conv.OpType != "Conv" || conv.Domain.Length != 0) return false;
        if (graph.Consumers(conv.Output[0]).Count != 1 || graph.IsObservedOutsideMainGraph(conv.Output[0])) return false;
        if (!graph.TryGetConstant(conv.Input[1], out var weightTensor) || weightTensor.DataType != (int)DataType.Float) return false;
        var parameters = new float[4][];
        for (int i = 0; i < 4; i++)
        {
            if (!graph.TryGetConstant(norm.Input[i + 1], out var p) || p.DataType != (int)DataType.Float) return false;
            parameters[i] = graph.Model.ReadFloats(p);
        }
        var (gamma, beta, mean, variance) = (parameters[0], parameters[1], parameters[2], parameters[3]);
        int channels = (int)weightTensor.Dims[0];
        if (gamma.Length != channels || beta.Length != channels || mean.Length != channels || variance.Length != channels) return false;
        float[] bias = new float[channels];
        if (conv.Input.Count > 2 && conv.Input[2].Length > 0)
        {
            if (!graph.TryGetConstant(conv.Input[2], out var b)) return false;
            bias = graph.Model.ReadFloats(b);
        }

        float epsilon = NodeAttributes.GetFloat(norm, "epsilon", 1e-5f);
        var weights = graph.Model.ReadFloats(weightTensor);
        int perChannel = weights.Length / channels;
        var newBias = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float factor = gamma[c] / MathF.Sqrt(variance[c] + epsilon);
            for (int k = 0; k < perChannel; k++) weights[c * perChannel + k] *= factor;
            newBias[c] = (bias[c] - mean[c]) * factor + beta[c];
        }

        var weightName = graph.UniqueName($"{conv.Input[1]}{FoldedSuffix}");
        graph.AddInitializer(TensorData.FromFloats(weightName, weightTensor.Dims, weights));
        var biasName = graph.UniqueName($"{conv.Input[1]}_bn_bias");
        graph.AddInitializer(TensorData.FromFloats(biasName, new long[] { channels }, newBias));
        conv.Input[1] = weightName;
        if (conv.Input.Count > 2) conv.Input[2] = biasName;
        else conv.Input.Add(biasName);
        conv.Output[0] = norm.Output[0];
        graph.Graph.Node.Remove(norm);
        graph.Reindex();
        return true;
    }
}
