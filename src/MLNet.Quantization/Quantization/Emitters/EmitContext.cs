using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Emitters;

/// <summary>Quantizes a weight given its float values and shape.</summary>
internal delegate QuantizedTensor WeightQuantization(ReadOnlySpan<float> values, long[] dims);

/// <summary>
/// What every emitter needs: the graph, the options, the new node list, and constant weights quantized once per
/// layout however many nodes share them.
/// </summary>
internal abstract class EmitContext
{
    /// <summary>The ONNX Runtime contrib operator domain.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly Dictionary<string, WeightInitializers> _weights = new(StringComparer.Ordinal);
    private readonly HashSet<NodeProto> _fusedAway = new(ReferenceEqualityComparer.Instance);

    /// <summary>Starts a rewrite of <paramref name="graph"/>.</summary>
    protected EmitContext(GraphEditor graph, QuantizationOptions options)
    {
        Graph = graph;
        Options = options;
    }

    /// <summary>The graph being rewritten (indexes reflect the original graph until the rewrite ends).</summary>
    public GraphEditor Graph { get; }

    /// <summary>The run's options.</summary>
    public QuantizationOptions Options { get; }

    /// <summary>The rewritten node list, in order.</summary>
    public List<NodeProto> Nodes { get; } = new();

    /// <summary>Whether a node of the original graph was absorbed into an earlier replacement.</summary>
    public bool IsFusedAway(NodeProto node) => _fusedAway.Contains(node);

    /// <summary>
    /// If the only reader of <paramref name="output"/> is an Add of a constant float vector of length
    /// <paramref name="columns"/>, marks that Add as fused and returns its bias and output names.
    /// </summary>
    public (string Bias, string Output)? TryFuseBiasAdd(string output, long columns)
    {
        if (Graph.IsObservedOutsideMainGraph(output)) return null;
        var consumers = Graph.Consumers(output);
        if (consumers.Count != 1) return null;
        var add = consumers[0];
        if (add.OpType != "Add" || add.Domain.Length != 0 || add.Input.Count != 2) return null;
        var biasName = add.Input[0] == output ? add.Input[1] : add.Input[0];
        if (biasName == output || !Graph.TryGetConstant(biasName, out var bias)) return null;
        if (bias.DataType != (int)DataType.Float || bias.Dims.Count != 1 || bias.Dims[0] != columns) return null;
        _fusedAway.Add(add);
        return (AsInitializer(biasName, bias), add.Output[0]);
    }

    /// <summary>Appends a node and returns its first output.</summary>
    public string AddNode(string opType, string domain, string nodeName, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = Graph.UniqueName(nodeName) };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        if (domain == MicrosoftDomain) Graph.EnsureOpset(MicrosoftDomain, 1);
        Nodes.Add(node);
        return node.Output[0];
    }

    /// <summary>Adds a float initializer with a unique name derived from <paramref name="stem"/>.</summary>
    public string AddFloatInitializer(string stem, long[] dims, float[] values)
    {
        var name = Graph.UniqueName(stem);
        Graph.AddInitializer(TensorData.FromFloats(name, dims, values));
        return name;
    }

    /// <summary>
    /// Quantizes a constant weight once per distinct layout. <paramref name="layoutKey"/> names the transformation
    /// applied by <paramref name="prepare"/> (e.g. "T" for transposed) so shared weights are reused only when identical.
    /// </summary>
    /// <param name="valueName">The weight's value name.</param>
    /// <param name="layoutKey">Identifies the layout and quantization settings.</param>
    /// <param name="prepare">Turns the float weight (values, dims) into the layout the operator needs; null when the
    /// stored layout is used as is (then the weight is read in place, without a float copy).</param>
    /// <param name="quantize">Quantizes the prepared weight.</param>
    /// <param name="scaleDims">The shape of the scale/zero-point initializers, given the quantized tensor.</param>
    public WeightInitializers QuantizeWeight(
        string valueName,
        string layoutKey,
        Func<float[], long[], (float[] Values, long[] Dims)>? prepare,
        WeightQuantization quantize,
        Func<QuantizedTensor, long[]> scaleDims)
    {
        var key = $"{valueName}|{layoutKey}";
        if (_weights.TryGetValue(key, out var existing)) return existing;
        if (!Graph.TryGetConstant(valueName, out var tensor))
            throw new InvalidOperationException($"'{valueName}' is not a constant; it cannot be quantized as a weight.");
        QuantizedTensor quantized;
        if (prepare is null)
        {
            var raw = TensorData.ReadFloatBytes(tensor, Graph.Model.BaseDirectory);
            quantized = quantize(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span), tensor.Dims.ToArray());
        }
        else
        {
            var (values, dims) = prepare(Graph.Model.ReadFloats(tensor), tensor.Dims.ToArray());
            quantized = quantize(values, dims);
        }
        var dataType = quantized.Type == QuantizedType.Int8 ? DataType.Int8 : DataType.Uint8;
        var stem = Sanitize(valueName);
        var dataName = Graph.UniqueName($"{stem}_quantized");
        Graph.AddInitializer(TensorData.FromBytes(dataName, quantized.Dims, dataType, quantized.Data));
        var shape = scaleDims(quantized);
        var scaleName = Graph.UniqueName($"{stem}_scale");
        Graph.AddInitializer(TensorData.FromFloats(scaleName, shape, quantized.Parameters.Select(p => p.Scale).ToArray()));
        var zeroPointName = Graph.UniqueName($"{stem}_zero_point");
        var zeroPoints = quantized.Parameters.Select(p => unchecked((byte)p.ZeroPoint)).ToArray();
        Graph.AddInitializer(TensorData.FromBytes(zeroPointName, shape, dataType, zeroPoints));
        var result = new WeightInitializers(dataName, scaleName, zeroPointName, quantized with { Data = Array.Empty<byte>() });
        _weights[key] = result;
        return result;
    }

    /// <summary>
    /// The name of an initializer holding a constant's value: the value itself when it is an initializer, or a new
    /// initializer copied from a Constant node (which may come later in the node order than the node reading it).
    /// </summary>
    public string AsInitializer(string valueName, TensorProto constant)
    {
        if (Graph.IsInitializer(valueName)) return valueName;
        var copy = constant.Clone();
        copy.Name = Graph.UniqueName($"{Sanitize(valueName)}_initializer");
        Graph.AddInitializer(copy);
        return copy.Name;
    }

    /// <summary>Makes a value name usable as a stem for new names.</summary>
    public static string Sanitize(string name) => name.Length == 0 ? "value" : name.Replace(':', '_').Replace('/', '_');
}
