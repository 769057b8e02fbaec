using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Preparation;

/// <summary>
/// Converts default-domain opset 7 and 8 models (CNTK, early PyTorch and Keras exports, ML.NET's pretrained
/// ResNet18) to opset 9, operator by operator; the opset import is never just relabelled. Of the operators whose
/// meaning changed between 7 and 9: BatchNormalization loses <c>spatial</c> (1 is what 9 means; 0 is refused),
/// Upsample's <c>scales</c> attribute becomes an input, Scan changed its signature (refused). Every other change
/// from 7 to 9 only widened element types or broadcasting. IR version 3 models, which list their initializers
/// as graph inputs, are raised to IR 4 and the weights stop being inputs, so ONNX Runtime treats them as constants.
/// </summary>
internal static class LegacyOpsetUpgrade
{
    /// <summary>Upgrades the model in place; returns false when it already imports opset 9 or later and is IR 4 or later.</summary>
    public static bool To9(GraphEditor graph)
    {
        bool changed = ReleaseInitializerInputs(graph);
        long opset = graph.OpsetVersion("") ?? 1;
        if (opset >= 9)
        {
            if (changed) graph.Reindex();
            return changed;
        }
        if (opset < 7)
            throw new InvalidOperationException($"The model imports opset {opset}; conversion starts at opset 7 (before it, Add/Mul/Gemm broadcast through attributes that later opsets removed). Re-export the model at opset 7 or later.");
        foreach (var node in graph.Graph.Node.Where(n => n.Domain.Length == 0 || n.Domain == "ai.onnx").ToList())
        {
            switch (node.OpType)
            {
                case "BatchNormalization": DropSpatial(node); break;
                case "Upsample": MoveScalesToInput(graph, node); break;
                case "Scan":
                    throw new InvalidOperationException($"Scan '{node.Name}' uses the opset {opset} signature (a sequence-length input and no scan directions), which cannot be converted. Re-export the model at opset 9 or later.");
            }
        }
        foreach (var import in graph.Model.Proto.OpsetImport.Where(o => o.Domain.Length == 0 || o.Domain == "ai.onnx")) import.Version = 9;
        graph.Reindex();
        return true;
    }

    private static bool ReleaseInitializerInputs(GraphEditor graph)
    {
        var proto = graph.Model.Proto;
        if (proto.IrVersion >= 4) return false;
        var initializers = new HashSet<string>(graph.Graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        var listed = graph.Graph.Input.Where(i => initializers.Contains(i.Name)).ToList();
        foreach (var input in listed) graph.Graph.Input.Remove(input);
        proto.IrVersion = 4;
        return true;
    }

    private static void DropSpatial(NodeProto node)
    {
        var spatial = node.Attribute.FirstOrDefault(a => a.Name == "spatial");
        if (spatial is null) return;
        if (spatial.I != 1)
            throw new InvalidOperationException($"BatchNormalization '{node.Name}' has spatial = {spatial.I} (statistics per element, not per channel), which opset 9 cannot express. Re-export the model with spatial batch normalization.");
        node.Attribute.Remove(spatial);
    }

    private static void MoveScalesToInput(GraphEditor graph, NodeProto node)
    {
        var scales = node.Attribute.FirstOrDefault(a => a.Name == "scales");
        if (scales is null)
            throw new InvalidOperationException($"Upsample '{node.Name}' has no scales attribute, which opset 7 and 8 require. The model is not valid.");
        var name = graph.UniqueName($"{(node.Name.Length > 0 ? node.Name : node.Output[0])}_scales");
        graph.AddInitializer(TensorData.FromFloats(name, new long[] { scales.Floats.Count }, scales.Floats.ToArray()));
        node.Input.Add(name);
        node.Attribute.Remove(scales);
    }
}
