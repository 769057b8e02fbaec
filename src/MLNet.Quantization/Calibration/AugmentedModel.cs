using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Calibration;

/// <summary>
/// Opens an ONNX Runtime session on the model with extra graph outputs exposing intermediate tensors. The model
/// proto is restored afterwards; models with external data are written next to their data for the session.
/// </summary>
internal static class AugmentedModel
{
    /// <summary>Creates a session whose outputs include <paramref name="tensors"/>.</summary>
    public static InferenceSession Open(OnnxModel model, IEnumerable<string> tensors, SessionOptions options)
    {
        var graph = model.Graph;
        var existing = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        int added = 0;
        foreach (var tensor in tensors)
        {
            if (!existing.Add(tensor)) continue;
            graph.Output.Add(new ValueInfoProto { Name = tensor });
            added++;
        }
        try
        {
            bool external = graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External);
            if (!external || model.BaseDirectory is null) return new InferenceSession(model.Proto.ToByteArray(), options);
            var path = Path.Combine(model.BaseDirectory, $".mlnet-quantize-calibration-{Guid.NewGuid():N}.onnx");
            try
            {
                File.WriteAllBytes(path, model.Proto.ToByteArray());
                return new InferenceSession(path, options);
            }
            finally
            {
                File.Delete(path);
            }
        }
        finally
        {
            for (int i = 0; i < added; i++) graph.Output.RemoveAt(graph.Output.Count - 1);
        }
    }

    /// <summary>
    /// The run-time values of the model that are float32: float graph inputs and float node outputs, from ONNX's type
    /// rules (<see cref="Preparation.ElementTypeInference"/>); only a graph with an operator those rules do not cover
    /// is asked of an ONNX Runtime session.
    /// </summary>
    public static HashSet<string> FloatValues(OnnxModel model)
    {
        var (types, unknown) = Preparation.ElementTypeInference.Infer(model.Graph);
        if (unknown.Count > 0) return FloatValuesFromSession(model);
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var runTime = model.Graph.Node.SelectMany(n => n.Output).Concat(model.Graph.Input.Select(i => i.Name).Where(n => !initializers.Contains(n)));
        return runTime.Where(v => v.Length > 0 && types.TryGetValue(v, out var t) && t == (int)TensorProto.Types.DataType.Float).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The float32 run-time values as an ONNX Runtime session types them.</summary>
    internal static HashSet<string> FloatValuesFromSession(OnnxModel model)
    {
        var outputs = model.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = Open(model, outputs, options);
        var floats = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, metadata) in session.OutputMetadata.Concat(session.InputMetadata))
        {
            if (metadata.IsTensor && metadata.ElementType == typeof(float)) floats.Add(name);
        }
        return floats;
    }
}
