using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Preparation;

/// <summary>
/// Converts a default-domain opset 9 model to opset 10, which static quantization needs (QuantizeLinear, QLinearConv
/// and QLinearMatMul start at 10; ONNX Runtime fuses Q/DQ into them without checking the opset). Of the operators
/// that gained a version at 10, only Slice (starts/ends/axes moved from attributes to inputs), TopK (k moved to an
/// input), Upsample (deprecated; Resize-10 takes the same inputs with the same meaning) and Dropout (mask output
/// type) change; Slice, TopK and Upsample are rewritten, a Dropout whose mask is read
/// is refused. Every other operator means the same at 10.
/// </summary>
internal static class OpsetUpgrade
{
    /// <summary>Raises the model from opset 9 (or lower) to 10; returns false when it already imports 10 or later.</summary>
    public static bool To10(GraphEditor graph)
    {
        long opset = graph.OpsetVersion("") ?? 1;
        if (opset >= 10) return false;
        if (opset < 9)
            throw new InvalidOperationException($"Static quantization needs opset 9 or later; this model imports opset {opset} (LegacyOpsetUpgrade converts 7 and 8 first).");
        foreach (var node in graph.Graph.Node.Where(n => n.Domain.Length == 0 || n.Domain == "ai.onnx").ToList())
        {
            switch (node.OpType)
            {
                case "Slice": MoveToInputs(graph, node, new[] { "starts", "ends", "axes" }); break;
                case "TopK": MoveToInputs(graph, node, new[] { "k" }); break;
                case "Upsample": node.OpType = "Resize"; break;
                case "Dropout" when node.Output.Count > 1 && node.Output[1].Length > 0 && graph.Consumers(node.Output[1]).Count > 0:
                    throw new InvalidOperationException($"Dropout '{node.Name}' has its mask read; its type changes at opset 10, so this opset 9 model cannot be converted for static quantization.");
            }
        }
        foreach (var import in graph.Model.Proto.OpsetImport.Where(o => o.Domain.Length == 0 || o.Domain == "ai.onnx")) import.Version = 10;
        graph.Reindex();
        return true;
    }

    private static void MoveToInputs(GraphEditor graph, NodeProto node, string[] attributes)
    {
        foreach (var name in attributes)
        {
            var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
            if (attribute is null)
            {
                if (name != "axes") node.Input.Add("");
                continue;
            }
            var values = attribute.Type == AttributeProto.Types.AttributeType.Int ? new[] { attribute.I } : attribute.Ints.ToArray();
            var tensorName = graph.UniqueName($"{EmitNameStem(node)}_{name}");
            graph.AddInitializer(TensorData.FromInt64(tensorName, new long[] { values.Length }, values));
            node.Input.Add(tensorName);
            node.Attribute.Remove(attribute);
        }
        while (node.Input.Count > 0 && node.Input[^1].Length == 0) node.Input.RemoveAt(node.Input.Count - 1);
    }

    private static string EmitNameStem(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output[0];
}
