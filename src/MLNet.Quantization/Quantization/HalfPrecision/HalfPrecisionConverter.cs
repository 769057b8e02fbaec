using System.Runtime.InteropServices;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Preparation;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.HalfPrecision;

/// <summary>
/// <see cref="QuantizationMode.Float16"/>: stores float32 constants in 16 bits and runs the selected operators in
/// float16. Every float32 value has a home precision (where its producer computes); a consumer that computes in the
/// other precision reads it through one Cast per value and direction. Graph inputs, graph outputs and values read by
/// subgraphs keep their float32 names; weights read by float32 nodes are cast back once, which ONNX Runtime folds into
/// a float32 tensor when the session loads.
/// </summary>
internal sealed class HalfPrecisionConverter
{
    /// <summary>Operators that move data without arithmetic; they compute in half precision when their float inputs are half.</summary>
    private static readonly HashSet<string> DataMovement = new(StringComparer.Ordinal)
    {
        "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Concat", "Slice", "Split", "Gather",
        "GatherElements", "GatherND", "Expand", "Compress", "ScatterElements", "ScatterND", "ReverseSequence",
    };

    /// <summary>Operators that read only their input's shape, in whichever precision it exists.</summary>
    private static readonly HashSet<string> ShapeReaders = new(StringComparer.Ordinal) { "Shape", "Size" };

    /// <summary>The first default-domain opset at which ONNX Runtime's CPU provider has a float16 kernel.</summary>
    private static readonly Dictionary<string, long> CpuFirstOpset = new(StringComparer.Ordinal)
    {
        ["Clip"] = 12, ["Max"] = 12, ["Min"] = 12, ["LayerNormalization"] = 17, ["RMSNormalization"] = 23, ["Round"] = 11, ["Sign"] = 9,
    };

    private const string NoKernelReason = "no float16 kernel in ONNX Runtime's CPU provider";

    private readonly GraphEditor _graph;
    private readonly QuantizationOptions _options;
    private readonly Float16Options _settings;
    private readonly DataType _halfType;
    private readonly Dictionary<string, int> _types;
    private readonly HashSet<string> _untyped;
    private readonly HashSet<string> _excluded;
    private readonly HashSet<string> _halfOps;
    private readonly Dictionary<string, bool> _halfHome = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _halfNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _floatNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _convertible = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _fits = new(StringComparer.Ordinal);
    private readonly HashSet<string> _retyped = new(StringComparer.Ordinal);
    private readonly List<NodeProto> _nodes = new();

    private HalfPrecisionConverter(GraphEditor graph, QuantizationOptions options)
    {
        _graph = graph;
        _options = options;
        _settings = options.Float16;
        _halfType = _settings.Type == HalfPrecisionType.Float16 ? DataType.Float16 : DataType.Bfloat16;
        var (types, _) = ElementTypeInference.Infer(graph.Graph);
        _types = types;
        _untyped = graph.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0 && !types.ContainsKey(o)).ToHashSet(StringComparer.Ordinal);
        _excluded = new HashSet<string>(options.ExcludedNodes, StringComparer.Ordinal);
        _halfOps = new HashSet<string>(_settings.HalfComputeOpTypes, StringComparer.Ordinal);
    }

    /// <summary>Converts <paramref name="graph"/> in place and returns a report line per node that reads float data.</summary>
    public static IReadOnlyList<NodeReport> Convert(GraphEditor graph, QuantizationOptions options, List<string> notes, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        if (options.Float16.Type == HalfPrecisionType.BFloat16 && (graph.OpsetVersion("") ?? 1) < 13)
            throw new ArgumentException($"bfloat16 weights need opset 13 or later (Cast from bfloat16); the model imports opset {graph.OpsetVersion("")}. Use HalfPrecisionType.Float16 (--half-type float16).", nameof(options));
        var converter = new HalfPrecisionConverter(graph, options);
        var reports = converter.Run(progress, cancellationToken);
        var kept = reports.Where(r => r.Detail.Contains(NoKernelReason, StringComparison.Ordinal)).GroupBy(r => r.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (kept.Count > 0)
            notes.Add($"float32 compute ({NoKernelReason}): {string.Join(", ", kept.Select(g => $"{g.Key} ×{g.Count()}"))}; their weights are stored in {TypeName(options.Float16.Type)} all the same.");
        return reports;
    }

    private static string TypeName(HalfPrecisionType type) => type == HalfPrecisionType.Float16 ? "float16" : "bfloat16";

    private List<NodeReport> Run(IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        var reports = new List<NodeReport>();
        var nodes = _graph.Graph.Node.ToList();
        for (int index = 0; index < nodes.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var node = nodes[index];
            var name = node.Name.Length > 0 ? node.Name : $"{node.OpType}#{index}";
            var floatInputs = node.Input.Where(i => i.Length > 0 && IsFloat(i)).ToList();
            var floatOutputs = node.Output.Where(o => o.Length > 0 && IsFloat(o)).ToList();
            if (node.OpType == "Constant" || floatInputs.Count == 0)
            {
                foreach (var output in floatOutputs) _halfHome[output] = false;
                _nodes.Add(node);
                continue;
            }
            var (half, reason) = Decide(node, floatInputs);
            bool convertedWeights = false;
            for (int i = 0; i < node.Input.Count; i++)
            {
                var input = node.Input[i];
                if (input.Length == 0 || !IsFloat(input)) continue;
                if (ShapeReaders.Contains(node.OpType))
                {
                    node.Input[i] = IsHalf(input) ? HalfName(input) : input;
                    continue;
                }
                if (_graph.TryGetConstant(input, out _) && Convertible(input)) convertedWeights = true;
                node.Input[i] = half ? HalfName(input) : FloatName(input);
            }
            var after = new List<NodeProto>();
            for (int o = 0; o < node.Output.Count; o++)
            {
                var output = node.Output[o];
                if (output.Length == 0 || !IsFloat(output)) continue;
                bool halfOutput = half && !(o > 0 && IsNormalization(node));
                _halfHome[output] = halfOutput;
                if (!halfOutput) continue;
                if (_graph.IsObservedOutsideMainGraph(output))
                {
                    var renamed = _graph.UniqueName($"{output}_{TypeName(_settings.Type)}");
                    node.Output[o] = renamed;
                    _halfNames[output] = renamed;
                    _floatNames[output] = output;
                    after.Add(CastNode(renamed, output, DataType.Float));
                }
                else
                {
                    _halfNames[output] = output;
                    _retyped.Add(output);
                }
            }
            _nodes.Add(node);
            _nodes.AddRange(after);
            reports.Add(half
                ? new NodeReport(name, node.OpType, true, $"{TypeName(_settings.Type)} compute")
                : convertedWeights
                    ? new NodeReport(name, node.OpType, true, $"float32 compute, {TypeName(_settings.Type)} weights ({reason})")
                    : new NodeReport(name, node.OpType, false, reason));
            progress?.Report(new QuantizationProgress("Converting", index + 1, nodes.Count));
        }
        _graph.Graph.Node.Clear();
        _graph.Graph.Node.AddRange(_nodes);
        foreach (var info in _graph.Graph.ValueInfo)
        {
            if (_retyped.Contains(info.Name) && info.Type?.TensorType is { } tensor) tensor.ElemType = (int)_halfType;
        }
        _graph.Reindex();
        return reports;
    }

    private static bool IsNormalization(NodeProto node) => node.OpType.EndsWith("LayerNormalization", StringComparison.Ordinal);

    /// <summary>Whether the node computes in half precision, and why not when it does not.</summary>
    private (bool Half, string Reason) Decide(NodeProto node, List<string> floatInputs)
    {
        if (_excluded.Contains(node.Name)) return (false, "excluded by name");
        if (_options.OpTypesToExclude.Contains(node.OpType)) return (false, "operator type excluded");
        if (_settings.Type == HalfPrecisionType.BFloat16) return (false, "bfloat16 has no compute kernels in ONNX Runtime's CPU provider");
        if (!_settings.HalfCompute) return (false, "HalfCompute is off");
        if (node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)) return (false, "holds a subgraph");
        if (node.Input.Any(i => i.Length > 0 && _untyped.Contains(i))) return (false, "an input's element type is unknown");
        bool dataMovement = (node.Domain.Length == 0 || node.Domain == "ai.onnx") && DataMovement.Contains(node.OpType);
        if (!_halfOps.Contains(node.OpType) && !dataMovement)
            return (false, ReferenceEquals(_settings.HalfComputeOpTypes, Float16Options.CpuHalfComputeOpTypes) ? NoKernelReason : "not in HalfComputeOpTypes");
        if (ReferenceEquals(_settings.HalfComputeOpTypes, Float16Options.CpuHalfComputeOpTypes) && node.Domain.Length == 0
            && CpuFirstOpset.TryGetValue(node.OpType, out var first) && (_graph.OpsetVersion("") ?? 1) < first)
            return (false, $"{NoKernelReason} before opset {first}");
        if (IsNormalization(node) && node.Output.Skip(1).Any(o => o.Length > 0 && _graph.Consumers(o).Count > 0 || _graph.IsObservedOutsideMainGraph(o)))
            return (false, "its mean or inverse deviation is read (float32 statistics)");
        if (floatInputs.Any(input => _graph.TryGetConstant(input, out _) && !FitsHalf(input)))
            return (false, "a constant input lies outside float16's range");
        if (dataMovement)
        {
            var computed = floatInputs.Where(i => !_graph.TryGetConstant(i, out _)).ToList();
            if (computed.Count == 0 || !computed.All(IsHalf)) return (false, "moves float32 data");
        }
        return (true, "");
    }

    private bool IsFloat(string value) => _types.TryGetValue(value, out var type) && type == (int)DataType.Float;

    private bool IsHalf(string value) => _halfHome.TryGetValue(value, out var half) && half || _graph.TryGetConstant(value, out _) && Convertible(value);

    /// <summary>A constant stored in 16 bits: big enough to matter, in range, and read only by nodes that may change.</summary>
    private bool Convertible(string constant)
    {
        if (_convertible.TryGetValue(constant, out var known)) return known;
        _graph.TryGetConstant(constant, out var tensor);
        bool convertible = TensorData.ElementCount(tensor) >= Math.Max(1, _options.MinimumWeightElements)
            && !_graph.IsObservedOutsideMainGraph(constant)
            && !_graph.Consumers(constant).Any(c => _excluded.Contains(c.Name) || _options.OpTypesToExclude.Contains(c.OpType))
            && FitsHalf(constant);
        _convertible[constant] = convertible;
        return convertible;
    }

    /// <summary>Whether a constant's values are all finite and representable in the 16-bit type (read once per constant).</summary>
    private bool FitsHalf(string constant)
    {
        if (_fits.TryGetValue(constant, out var fits)) return fits;
        _graph.TryGetConstant(constant, out var tensor);
        fits = HalfValues.Fits(Values(tensor), _settings.Type);
        _fits[constant] = fits;
        return fits;
    }

    private ReadOnlySpan<float> Values(TensorProto tensor) => MemoryMarshal.Cast<byte, float>(TensorData.ReadFloatBytes(tensor, _graph.Model.BaseDirectory).Span);

    /// <summary>The name under which <paramref name="value"/> exists in half precision, adding its Cast or 16-bit copy on first use.</summary>
    private string HalfName(string value)
    {
        if (_halfNames.TryGetValue(value, out var name)) return name;
        if (_graph.TryGetConstant(value, out var tensor) && Convertible(value))
        {
            name = _graph.UniqueName($"{value}_{TypeName(_settings.Type)}");
            _graph.AddInitializer(TensorData.FromBytes(name, tensor.Dims.ToArray(), _halfType, HalfValues.Encode(Values(tensor), _settings.Type)));
        }
        else
        {
            name = _graph.UniqueName($"{value}_{TypeName(_settings.Type)}");
            _nodes.Add(CastNode(value, name, _halfType));
        }
        _halfNames[value] = name;
        return name;
    }

    /// <summary>The name under which <paramref name="value"/> exists in float32, adding its Cast on first use.</summary>
    private string FloatName(string value)
    {
        if (_floatNames.TryGetValue(value, out var name)) return name;
        bool convertedConstant = _graph.TryGetConstant(value, out _) && Convertible(value);
        if (!convertedConstant && !(_halfHome.TryGetValue(value, out var half) && half)) return value;
        var source = HalfName(value);
        name = _graph.UniqueName($"{value}_float32");
        _nodes.Add(CastNode(source, name, DataType.Float));
        _floatNames[value] = name;
        return name;
    }

    private NodeProto CastNode(string input, string output, DataType to)
    {
        var node = new NodeProto { OpType = "Cast", Name = _graph.UniqueName($"{output}_Cast") };
        node.Input.Add(input);
        node.Output.Add(output);
        node.Attribute.Add(OnnxAttribute.Int("to", (int)to).Proto);
        return node;
    }
}
