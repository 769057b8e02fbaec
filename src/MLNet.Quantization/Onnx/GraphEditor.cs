using Google.Protobuf.Collections;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Indexes a model's main graph (producers, consumers, constants) and offers the edits a rewrite needs:
/// unique names, new initializers, opset imports and dead-value removal.
/// Call <see cref="Reindex"/> after changing the node list by hand.
/// </summary>
internal sealed class GraphEditor
{
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _subgraphReferences = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal);

    /// <summary>Indexes the model's main graph.</summary>
    /// <param name="model">The model to edit in place.</param>
    public GraphEditor(OnnxModel model)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Reindex();
    }

    /// <summary>The model being edited.</summary>
    public OnnxModel Model { get; }

    /// <summary>The main graph.</summary>
    public GraphProto Graph => Model.Graph;

    /// <summary>Rebuilds the indexes from the current graph.</summary>
    public void Reindex()
    {
        _producers.Clear();
        _consumers.Clear();
        _initializers.Clear();
        _subgraphReferences.Clear();
        _graphOutputs.Clear();
        foreach (var tensor in Graph.Initializer) { _initializers[tensor.Name] = tensor; _usedNames.Add(tensor.Name); }
        foreach (var input in Graph.Input) _usedNames.Add(input.Name);
        foreach (var output in Graph.Output) _graphOutputs.Add(output.Name);
        foreach (var node in Graph.Node)
        {
            if (node.Name.Length > 0) _usedNames.Add(node.Name);
            foreach (var output in node.Output) { if (output.Length > 0) { _producers[output] = node; _usedNames.Add(output); } }
            foreach (var input in node.Input)
            {
                if (input.Length == 0) continue;
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = new List<NodeProto>();
                list.Add(node);
            }
            foreach (var attribute in node.Attribute)
            {
                if (attribute.G is not null) CollectSubgraphReferences(attribute.G);
                foreach (var subgraph in attribute.Graphs) CollectSubgraphReferences(subgraph);
            }
        }
    }

    /// <summary>The version of the given operator domain the model imports, or null if it imports none.</summary>
    /// <param name="domain">"" (or "ai.onnx") for the default domain, or e.g. "com.microsoft".</param>
    public long? OpsetVersion(string domain)
    {
        var normalized = GraphValidator.NormalizeDomain(domain);
        foreach (var opset in Model.Proto.OpsetImport)
            if (GraphValidator.NormalizeDomain(opset.Domain) == normalized) return opset.Version;
        return null;
    }

    /// <summary>Adds an opset import for a domain if the model has none for it.</summary>
    /// <param name="domain">The operator domain.</param>
    /// <param name="version">The version to import.</param>
    public void EnsureOpset(string domain, long version)
    {
        if (OpsetVersion(domain) is null) Model.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
    }

    /// <summary>The node producing a value, or null for graph inputs, initializers and unknown names.</summary>
    /// <param name="valueName">A value name.</param>
    public NodeProto? Producer(string valueName) => _producers.GetValueOrDefault(valueName);

    /// <summary>The nodes of the main graph that read a value.</summary>
    /// <param name="valueName">A value name.</param>
    public IReadOnlyList<NodeProto> Consumers(string valueName) =>
        _consumers.TryGetValue(valueName, out var list) ? list : Array.Empty<NodeProto>();

    /// <summary>Whether the value is a graph output or is read by a subgraph (so it must keep its name and meaning).</summary>
    /// <param name="valueName">A value name.</param>
    public bool IsObservedOutsideMainGraph(string valueName) =>
        _graphOutputs.Contains(valueName) || _subgraphReferences.Contains(valueName);

    /// <summary>
    /// Finds the constant tensor behind a value: an initializer that is not also an overridable graph input,
    /// or the <c>value</c> of a Constant node (older exporters keep weights that way).
    /// </summary>
    /// <param name="valueName">A value name.</param>
    /// <param name="tensor">The constant tensor, named as the value.</param>
    public bool TryGetConstant(string valueName, out TensorProto tensor)
    {
        if (_initializers.TryGetValue(valueName, out tensor!))
            return Model.Proto.IrVersion < 4 || Graph.Input.All(i => i.Name != valueName);
        if (_producers.TryGetValue(valueName, out var node) && node.OpType == "Constant" && node.Domain.Length == 0)
        {
            var value = node.Attribute.FirstOrDefault(a => a.Name == "value" && a.T is not null);
            if (value is not null)
            {
                tensor = value.T.Clone();
                tensor.Name = valueName;
                return true;
            }
        }
        tensor = null!;
        return false;
    }

    /// <summary>Whether the name is an initializer of the main graph.</summary>
    /// <param name="valueName">A value name.</param>
    public bool IsInitializer(string valueName) => _initializers.ContainsKey(valueName);

    /// <summary>The initializer of the main graph with this name, if there is one.</summary>
    /// <param name="valueName">A value name.</param>
    /// <param name="tensor">The initializer.</param>
    public bool TryGetInitializer(string valueName, out TensorProto tensor) => _initializers.TryGetValue(valueName, out tensor!);

    /// <summary>A name that no value, node or initializer of the graph uses yet, derived from <paramref name="stem"/>.</summary>
    /// <param name="stem">The preferred name.</param>
    public string UniqueName(string stem)
    {
        var name = stem;
        for (int i = 1; !_usedNames.Add(name); i++) name = $"{stem}_{i}";
        return name;
    }

    /// <summary>
    /// Adds an initializer (its name must be unique, e.g. from <see cref="UniqueName"/>). When the model has a
    /// <see cref="OnnxModel.Spill"/>, a large tensor goes to disk at once and the graph holds a reference to it.
    /// </summary>
    /// <param name="tensor">The tensor.</param>
    public void AddInitializer(TensorProto tensor)
    {
        if (Model.Spill is { } spill) tensor = spill.Store(tensor);
        Graph.Initializer.Add(tensor);
        _initializers[tensor.Name] = tensor;
        _usedNames.Add(tensor.Name);
    }

    /// <summary>
    /// Removes initializers, Constant nodes and other nodes whose outputs nobody reads, repeating until nothing
    /// more can go. Graph outputs and values read by subgraphs are kept. Under IR version 3, where initializers
    /// are also listed as graph inputs, the input entry of a removed initializer goes too.
    /// </summary>
    public void RemoveUnusedValues()
    {
        var removedInitializers = new HashSet<string>(StringComparer.Ordinal);
        bool changed = true;
        while (changed)
        {
            Reindex();
            changed = RemoveWhere(Graph.Node, n => n.Output.All(o => o.Length == 0 || !IsUsed(o)));
            if (changed) continue;
            foreach (var tensor in Graph.Initializer) if (!IsUsed(tensor.Name)) removedInitializers.Add(tensor.Name);
            changed = RemoveWhere(Graph.Initializer, t => removedInitializers.Contains(t.Name));
        }
        RemoveWhere(Graph.Input, i => removedInitializers.Contains(i.Name));
        Reindex();
    }

    private bool IsUsed(string name) => _consumers.ContainsKey(name) || IsObservedOutsideMainGraph(name);

    private void CollectSubgraphReferences(GraphProto graph)
    {
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input) if (input.Length > 0) _subgraphReferences.Add(input);
            foreach (var attribute in node.Attribute)
            {
                if (attribute.G is not null) CollectSubgraphReferences(attribute.G);
                foreach (var subgraph in attribute.Graphs) CollectSubgraphReferences(subgraph);
            }
        }
        foreach (var output in graph.Output) _subgraphReferences.Add(output.Name);
    }

    private static bool RemoveWhere<T>(RepeatedField<T> items, Func<T, bool> predicate)
    {
        var keep = items.Where(item => !predicate(item)).ToList();
        if (keep.Count == items.Count) return false;
        items.Clear();
        items.AddRange(keep);
        return true;
    }
}
