using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Calibration;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// GPTQ's statistics, gathered layer by layer on the model as it is being quantized: for each MatMul input A (rows
/// of K values), H = Σ xᵀx over every row of every calibration sample, where x comes through the layers already
/// quantized, as in the GPTQ paper. Each calibration sample keeps the values that later nodes still read (for a
/// decoder: the residual stream, the mask, the rotary tables). When a layer's Hessian is asked for, only the nodes
/// written since the previous request run, in a small ONNX Runtime session of their own, on those kept values. So
/// the float model is never loaded whole, memory holds one layer's weights and one Hessian (packed, K(K+1)/2 doubles)
/// besides the kept values, and the whole model runs once over the calibration data in all.
/// </summary>
internal sealed class SequentialHessianObserver : IDisposable
{
    private readonly GraphEditor _graph;
    private readonly IReadOnlyList<NodeProto> _original;
    private readonly Dictionary<string, ValueInfoProto> _graphInputs;
    private readonly List<Dictionary<string, NamedOnnxValue>> _kept = new();
    private readonly CancellationToken _cancellationToken;
    private readonly QuantizationOptions _options;
    private int _nodesRun;

    /// <summary>Reads the calibration samples (up to <see cref="QuantizationOptions.MaxCalibrationSamples"/>) and checks them.</summary>
    /// <param name="graph">The graph being rewritten; its node list is the original, in graph order.</param>
    /// <param name="data">The calibration samples.</param>
    /// <param name="options">The sample limit and the device the segments run on.</param>
    /// <param name="progress">Receives one report per sample read.</param>
    /// <param name="cancellationToken">Checked before each sample and each session run.</param>
    public SequentialHessianObserver(GraphEditor graph, CalibrationData data, QuantizationOptions options, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        _graph = graph;
        _original = graph.Graph.Node.ToList();
        _cancellationToken = cancellationToken;
        _options = options;
        _graphInputs = graph.Graph.Input.Where(i => !graph.IsInitializer(i.Name)).ToDictionary(i => i.Name, StringComparer.Ordinal);
        var inputNames = _graphInputs.Keys.ToList();
        foreach (var sample in data.Read(inputNames))
        {
            if (_kept.Count == options.MaxCalibrationSamples) break;
            cancellationToken.ThrowIfCancellationRequested();
            ActivationObserver.CheckInputs(sample, _kept.Count + 1, inputNames);
            _kept.Add(inputNames.ToDictionary(n => n, n => Copy(sample.First(v => v.Name == n)), StringComparer.Ordinal));
            progress?.Report(new QuantizationProgress("Reading GPTQ calibration samples", _kept.Count, options.MaxCalibrationSamples));
        }
        if (_kept.Count == 0) throw new InvalidOperationException($"The calibration data ({data.Description}) holds no samples; GPTQ needs representative inputs (128 or more rows are typical).");
    }

    /// <summary>
    /// The Hessian of <paramref name="tensor"/>, the input of original node <paramref name="nodeIndex"/>, with every
    /// node before it as <paramref name="written"/> holds them (quantized where already done). A new matrix each call.
    /// </summary>
    /// <param name="tensor">The MatMul/Gemm input whose statistics are wanted.</param>
    /// <param name="written">The rewritten node list so far: it computes every value the original nodes before <paramref name="nodeIndex"/> computed.</param>
    /// <param name="nodeIndex">The index of the node being quantized in the original node list.</param>
    /// <param name="k">The number of values per row of <paramref name="tensor"/>.</param>
    public SymmetricMatrix For(string tensor, IReadOnlyList<NodeProto> written, int nodeIndex, int k)
    {
        var needed = ReadFrom(nodeIndex);
        RunWritten(written, needed, nodeIndex);
        GarbageBound.Check();
        var hessian = new SymmetricMatrix(k);
        for (int s = 0; s < _kept.Count; s++)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (!_kept[s].TryGetValue(tensor, out var value))
                throw new InvalidOperationException($"GPTQ could not observe '{tensor}', the input of node '{NodeName(nodeIndex)}': no node before it computes it.");
            Accumulate(hessian, tensor, value, s + 1, k);
        }
        Drop(needed);
        return hessian;
    }

    /// <summary>Disposes the values ONNX Runtime computed.</summary>
    public void Dispose()
    {
        foreach (var sample in _kept)
            foreach (var (name, value) in sample)
                if (!_graphInputs.ContainsKey(name)) (value as IDisposable)?.Dispose();
        _kept.Clear();
    }

    /// <summary>Every value the original nodes from <paramref name="nodeIndex"/> on read, subgraphs included.</summary>
    private HashSet<string> ReadFrom(int nodeIndex)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = nodeIndex; i < _original.Count; i++) AddReads(_original[i], names);
        return names;
    }

    private static void AddReads(NodeProto node, HashSet<string> names)
    {
        foreach (var input in node.Input) if (input.Length > 0) names.Add(input);
        foreach (var attribute in node.Attribute)
        {
            if (attribute.G is not null) AddReads(attribute.G, names);
            foreach (var subgraph in attribute.Graphs) AddReads(subgraph, names);
        }
    }

    /// <summary>The values a subgraph reads from the scopes around it: what it reads less what it defines itself.</summary>
    private static void AddReads(GraphProto graph, HashSet<string> names)
    {
        var reads = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Node) AddReads(node, reads);
        foreach (var output in graph.Output) reads.Add(output.Name);
        reads.ExceptWith(graph.Input.Select(i => i.Name));
        reads.ExceptWith(graph.Initializer.Select(t => t.Name));
        reads.ExceptWith(graph.Node.SelectMany(n => n.Output));
        names.UnionWith(reads);
    }

    /// <summary>Runs the nodes written since the last call on every sample, keeping the outputs that <paramref name="needed"/> lists.</summary>
    private void RunWritten(IReadOnlyList<NodeProto> written, HashSet<string> needed, int nodeIndex)
    {
        var nodes = written.Skip(_nodesRun).ToList();
        bool fromGraphInputs = _nodesRun == 0;
        _nodesRun = written.Count;
        var produced = nodes.Where(n => !IsConstant(n)).SelectMany(n => n.Output).Where(o => o.Length > 0).ToHashSet(StringComparer.Ordinal);
        var outputs = produced.Where(needed.Contains).ToList();
        if (outputs.Count == 0) return;

        var reads = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes) AddReads(node, reads);
        reads.ExceptWith(produced);
        var kept = _kept[0];
        var segment = new GraphProto { Name = "gptq_segment" };
        segment.Node.AddRange(nodes.Where(n => !IsConstant(n)));
        var inputs = new List<string>();
        foreach (var name in reads)
        {
            if (kept.TryGetValue(name, out var value))
            {
                segment.Input.Add(ValueInfo(name, value));
                inputs.Add(name);
            }
            else if (_graph.TryGetInitializer(name, out var initializer) || _graph.TryGetConstant(name, out initializer))
            {
                segment.Initializer.Add(Inlined(initializer));
            }
            else
            {
                throw new InvalidOperationException($"GPTQ cannot run the nodes before '{NodeName(nodeIndex)}': no earlier node, input or initializer provides '{name}'. This is a bug in MLNet.Quantization; quantize this model with Rtn or Hqq meanwhile.");
            }
        }
        foreach (var output in outputs) segment.Output.Add(new ValueInfoProto { Name = output });
        var model = new ModelProto { IrVersion = Math.Max(_graph.Model.Proto.IrVersion, 4), ProducerName = "MLNet.Quantization", Graph = segment };
        model.OpsetImport.AddRange(_graph.Model.Proto.OpsetImport);
        model.Functions.AddRange(_graph.Model.Proto.Functions);

        using var session = OpenSession(model, nodeIndex);
        for (int s = 0; s < _kept.Count; s++)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var sample = _kept[s];
            IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results;
            try
            {
                results = session.Run(inputs.Select(n => sample[n]).ToList(), outputs);
            }
            catch (OnnxRuntimeException e)
            {
                string where = fromGraphInputs ? "" : $" in the nodes before '{NodeName(nodeIndex)}'";
                throw new InvalidOperationException($"Calibration sample {s + 1} was rejected by the model{where}{CalibrationDevice.Where(_options)}: {e.Message.Trim()} Check that each input has the model's shape and element type ({ActivationObserver.Describe(session)}){CalibrationDevice.Hint(_options)}.", e);
            }
            foreach (var result in results) sample[result.Name] = result;
        }
    }

    /// <summary>
    /// A session on a segment, without the CPU memory arena, so that the values it outputs own plain allocations
    /// that outlive it and are freed when disposed; on the calibration GPU when there is one (its outputs come back
    /// to CPU memory all the same).
    /// </summary>
    private InferenceSession OpenSession(ModelProto segment, int nodeIndex)
    {
        using var options = CalibrationDevice.Apply(new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, EnableCpuMemArena = false }, _options);
        try
        {
            return new InferenceSession(segment.ToByteArray(), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"GPTQ could not load the nodes before '{NodeName(nodeIndex)}' in ONNX Runtime{CalibrationDevice.Where(_options)}: {e.Message.Trim()}{CalibrationDevice.Hint(_options)}", e);
        }
    }

    /// <summary>
    /// A Constant node holding a tensor: its value goes into a segment as an initializer instead of being kept per
    /// sample. Constants in the scalar and list forms (value_ints, value_float, …) are small and run as nodes.
    /// </summary>
    private static bool IsConstant(NodeProto node) =>
        node.OpType == "Constant" && node.Domain.Length == 0 && node.Attribute.Any(a => a.Name == "value" && a.T is not null);

    /// <summary>An original node's name for messages, as the report names it.</summary>
    private string NodeName(int index) => _original[index].Name.Length > 0 ? _original[index].Name : $"{_original[index].OpType}#{index}";

    /// <summary>A copy of a caller's input value, so that a reader that reuses one tensor for every sample cannot change kept samples.</summary>
    private static NamedOnnxValue Copy(NamedOnnxValue value) => value.Value switch
    {
        DenseTensor<float> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<float>)t.Clone()),
        DenseTensor<long> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<long>)t.Clone()),
        DenseTensor<int> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<int>)t.Clone()),
        DenseTensor<bool> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<bool>)t.Clone()),
        DenseTensor<double> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<double>)t.Clone()),
        DenseTensor<byte> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<byte>)t.Clone()),
        DenseTensor<sbyte> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<sbyte>)t.Clone()),
        DenseTensor<short> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<short>)t.Clone()),
        DenseTensor<ushort> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<ushort>)t.Clone()),
        DenseTensor<uint> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<uint>)t.Clone()),
        DenseTensor<ulong> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<ulong>)t.Clone()),
        DenseTensor<Float16> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<Float16>)t.Clone()),
        DenseTensor<BFloat16> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<BFloat16>)t.Clone()),
        DenseTensor<string> t => NamedOnnxValue.CreateFromTensor(value.Name, (DenseTensor<string>)t.Clone()),
        _ => value,
    };

    /// <summary>Disposes the kept values no node from here on reads.</summary>
    private void Drop(HashSet<string> needed)
    {
        foreach (var sample in _kept)
        {
            foreach (var name in sample.Keys.Where(n => !needed.Contains(n)).ToList())
            {
                if (!_graphInputs.ContainsKey(name)) (sample[name] as IDisposable)?.Dispose();
                sample.Remove(name);
            }
        }
    }

    /// <summary>A graph input for a kept value: the model's own declaration for its inputs, the element type otherwise.</summary>
    private ValueInfoProto ValueInfo(string name, NamedOnnxValue value)
    {
        if (_graphInputs.TryGetValue(name, out var declared)) return declared;
        if (value is not DisposableNamedOnnxValue computed || computed.ValueType != OnnxValueType.ONNX_TYPE_TENSOR)
            throw new NotSupportedException($"GPTQ keeps '{name}' between layers, but it is a {value.ValueType} rather than a tensor; quantize this model with Rtn or Hqq.");
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)computed.ElementType } } };
    }

    /// <summary>The initializer with its data inline, for a session that cannot see external or spilled files.</summary>
    private TensorProto Inlined(TensorProto tensor)
    {
        if (!ExternalDataReference.IsExternal(tensor)) return tensor;
        var copy = tensor.Clone();
        copy.ExternalData.Clear();
        copy.DataLocation = TensorProto.Types.DataLocation.Default;
        copy.RawData = UnsafeByteOperations.UnsafeWrap(TensorData.ReadBytes(tensor, _graph.Model.BaseDirectory));
        return copy;
    }

    private static void Accumulate(SymmetricMatrix hessian, string name, NamedOnnxValue value, int sample, int k)
    {
        var tensor = value.AsTensor<float>() ?? throw new InvalidOperationException($"Tensor '{name}' is not float32; GPTQ observes float MatMul inputs.");
        var data = tensor is DenseTensor<float> dense ? dense.Buffer.Span : tensor.ToArray();
        if (data.Length % k != 0) throw new InvalidOperationException($"Tensor '{name}' holds {data.Length} values, not rows of {k}.");
        if (!float.IsFinite(TensorPrimitives.Sum(data)) && data.ToArray().Any(v => !float.IsFinite(v)))
            throw new InvalidOperationException($"Tensor '{name}' holds NaN or infinity on calibration sample {sample}; check the calibration inputs.");
        hessian.AddOuterProducts(data);
    }
}
