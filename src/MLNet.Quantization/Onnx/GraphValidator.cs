using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Checks that a loaded model is consistent enough to rewrite: every value a node reads is defined, every operator
/// domain is imported, and external data files exist and are large enough.
/// </summary>
internal static class GraphValidator
{
    /// <summary>Throws <see cref="OnnxFormatException"/> naming the first problem found.</summary>
    public static void Validate(OnnxModel model, string source)
    {
        var domains = new HashSet<string>(model.Proto.OpsetImport.Select(o => NormalizeDomain(o.Domain)), StringComparer.Ordinal);
        var visible = new HashSet<string>(StringComparer.Ordinal);
        ValidateGraph(model.Graph, visible, domains, source);
        foreach (var tensor in model.Graph.Initializer.Where(ExternalDataReference.IsExternal))
            ValidateExternal(model, tensor);
    }

    /// <summary>"ai.onnx" and "" name the same default domain.</summary>
    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    private static void ValidateGraph(GraphProto graph, HashSet<string> outerScope, HashSet<string> domains, string source)
    {
        var defined = new HashSet<string>(outerScope, StringComparer.Ordinal);
        foreach (var input in graph.Input) defined.Add(input.Name);
        foreach (var tensor in graph.Initializer) defined.Add(tensor.Name);
        foreach (var sparse in graph.SparseInitializer) if (sparse.Values is not null) defined.Add(sparse.Values.Name);
        foreach (var node in graph.Node) foreach (var output in node.Output) if (output.Length > 0) defined.Add(output);

        foreach (var node in graph.Node)
        {
            var domain = NormalizeDomain(node.Domain);
            if (!domains.Contains(domain))
                throw new OnnxFormatException(domain.Length == 0
                    ? $"'{source}' uses operator '{node.OpType}' but imports no opset for the default ONNX domain."
                    : $"Node '{Describe(node)}' uses operator domain '{node.Domain}', which the model does not import (opset_import). The model is incomplete or was produced by a tool this runtime does not know.");
            foreach (var input in node.Input)
            {
                if (input.Length > 0 && !defined.Contains(input))
                    throw new OnnxFormatException($"Node '{Describe(node)}' reads '{input}', which is neither a graph input, an initializer nor the output of any node. The model is missing an initializer or is truncated.");
            }
            foreach (var attribute in node.Attribute)
            {
                if (attribute.G is not null) ValidateGraph(attribute.G, defined, domains, source);
                foreach (var subgraph in attribute.Graphs) ValidateGraph(subgraph, defined, domains, source);
            }
        }
        foreach (var output in graph.Output)
        {
            if (!defined.Contains(output.Name))
                throw new OnnxFormatException($"Graph output '{output.Name}' is not produced by any node, input or initializer.");
        }
    }

    private static void ValidateExternal(OnnxModel model, TensorProto tensor)
    {
        if (model.BaseDirectory is null)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' keeps its data in an external file, but the model was loaded from memory. Load it from its file path so the data file can be found.");
        var reference = ExternalDataReference.Parse(tensor);
        var path = reference.ResolvePath(model.BaseDirectory, tensor.Name);
        if (!File.Exists(path))
            throw new OnnxFormatException($"External data file '{reference.Location}' for tensor '{tensor.Name}' was not found next to the model in '{model.BaseDirectory}'. Copy the model's data file next to it.");
        long expected = TensorData.ElementCount(tensor) * Math.Max(1, ElementType.SizeOf(tensor.DataType));
        long length = reference.Length ?? expected;
        long fileLength = new FileInfo(path).Length;
        if (reference.Offset + length > fileLength)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' reads {length} bytes at offset {reference.Offset} of '{reference.Location}', but that file has only {fileLength} bytes. The data file is truncated or belongs to another model.");
    }

    private static string Describe(NodeProto node) => node.Name.Length > 0 ? node.Name : $"{node.OpType} -> {string.Join(",", node.Output)}";
}
