using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Builds ONNX models in code: inputs, initializers, nodes and outputs, then <see cref="Build"/>.
/// Dimensions are given as <see cref="long"/> (fixed) or <see cref="string"/> (symbolic, e.g. "batch").
/// </summary>
public sealed class GraphBuilder
{
    private readonly GraphProto _graph;
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal);
    private int _nodeCounter;

    /// <summary>Starts an empty graph.</summary>
    /// <param name="graphName">The graph's name.</param>
    /// <param name="opsetVersion">The default-domain opset to import.</param>
    public GraphBuilder(string graphName = "graph", long opsetVersion = 17)
    {
        _graph = new GraphProto { Name = graphName };
        _opsets[""] = opsetVersion;
    }

    /// <summary>The default-domain opset the model will import.</summary>
    public long OpsetVersion => _opsets[""];

    /// <summary>Imports an additional operator domain (e.g. "com.microsoft").</summary>
    /// <param name="domain">The domain.</param>
    /// <param name="version">Its version.</param>
    public GraphBuilder ImportDomain(string domain, long version)
    {
        _opsets[domain] = version;
        return this;
    }

    /// <summary>Declares a graph input.</summary>
    /// <param name="name">Input name.</param>
    /// <param name="elementType">Element type.</param>
    /// <param name="dims">Dimensions: long for fixed, string for symbolic.</param>
    /// <returns>The input's name.</returns>
    public string Input(string name, TensorElementType elementType, params object[] dims) => Input(name, (DataType)elementType, dims);

    internal string Input(string name, DataType elementType, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, elementType, dims));
        return name;
    }

    /// <summary>Declares a graph output.</summary>
    /// <param name="name">The value to expose.</param>
    /// <param name="elementType">Element type.</param>
    /// <param name="dims">Dimensions: long for fixed, string for symbolic.</param>
    public GraphBuilder Output(string name, TensorElementType elementType, params object[] dims) => Output(name, (DataType)elementType, dims);

    internal GraphBuilder Output(string name, DataType elementType, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    /// <summary>Adds a float initializer.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values, row-major.</param>
    /// <returns>The initializer's name.</returns>
    public string Initializer(string name, long[] dims, float[] values) => Initializer(TensorData.FromFloats(name, dims, values));

    /// <summary>Adds a 64-bit integer initializer (shapes, indices, axes).</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values, row-major.</param>
    /// <returns>The initializer's name.</returns>
    public string Initializer(string name, long[] dims, long[] values) => Initializer(TensorData.FromInt64(name, dims, values));

    internal string Initializer(TensorProto tensor)
    {
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a Constant node holding a tensor (the way older exporters store weights).</summary>
    internal string Constant(string name, TensorProto value)
    {
        var node = new NodeProto { OpType = "Constant", Name = $"{name}_constant" };
        node.Output.Add(name);
        node.Attribute.Add(OnnxAttribute.Tensor("value", value).Proto);
        _graph.Node.Add(node);
        return name;
    }

    /// <summary>Adds a node with one output.</summary>
    /// <param name="opType">Operator.</param>
    /// <param name="inputs">Input value names ("" for an omitted optional input).</param>
    /// <param name="output">The output value name, or null for a generated one.</param>
    /// <param name="attributes">Attributes.</param>
    /// <returns>The output value's name.</returns>
    public string Node(string opType, string[] inputs, string? output = null, params OnnxAttribute[] attributes) =>
        NodeInDomain("", opType, inputs, new[] { output ?? $"{opType.ToLowerInvariant()}_{_nodeCounter}_out" }, attributes)[0];

    /// <summary>Adds a node in any domain with any number of outputs.</summary>
    /// <param name="domain">Operator domain ("" for ONNX).</param>
    /// <param name="opType">Operator.</param>
    /// <param name="inputs">Input value names.</param>
    /// <param name="outputs">Output value names.</param>
    /// <param name="attributes">Attributes.</param>
    /// <returns>The output names.</returns>
    public string[] NodeInDomain(string domain, string opType, string[] inputs, string[] outputs, params OnnxAttribute[] attributes)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = $"{opType}_{_nodeCounter++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes.Select(a => a.Proto));
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Builds the model.</summary>
    /// <param name="irVersion">The IR version to record (8 suits opsets up to 17; 3 for opset-9-era models).</param>
    /// <param name="producerName">Producer recorded in the model.</param>
    public OnnxModel Build(long irVersion = 8, string producerName = "MLNet.Quantization.GraphBuilder")
    {
        var model = new ModelProto { IrVersion = irVersion, ProducerName = producerName, Graph = _graph.Clone() };
        foreach (var (domain, version) in _opsets) model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        return new OnnxModel(model);
    }

    /// <summary>A tensor value description with element type and shape (dimensions: long/int fixed, string symbolic).</summary>
    internal static ValueInfoProto ValueInfo(string name, DataType elementType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                _ => throw new ArgumentException($"Dimension '{dim}' must be a long, an int or a string.", nameof(dims)),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }
}
