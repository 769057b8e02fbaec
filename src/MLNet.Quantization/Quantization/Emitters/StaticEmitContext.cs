using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Emitters;

/// <summary>
/// Shared by the QDQ and QOperator emitters: activation parameters from the plan's ranges, their initializers,
/// weights (int8 symmetric, per channel when asked), int32 biases and embedding tables.
/// </summary>
internal sealed class StaticEmitContext : EmitContext
{
    private readonly Dictionary<string, (string Scale, string ZeroPoint)> _parameterInitializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QuantParams> _tableParameters = new(StringComparer.Ordinal);

    /// <summary>Starts a static rewrite following <paramref name="plan"/>.</summary>
    public StaticEmitContext(GraphEditor graph, QuantizationOptions options, StaticPlan plan)
        : base(graph, options)
    {
        Plan = plan;
        Opset = graph.OpsetVersion("") ?? 1;
        SignedActivations = FindSignedOperands(graph, plan, options);
    }

    /// <summary>
    /// Activations stored int8 symmetric although activations are uint8: the right-hand operands of products of two
    /// activations (attention keys and values), so the product runs on the unsigned × signed kernel, which VNNI
    /// CPUs run several times faster than unsigned × unsigned.
    /// </summary>
    public IReadOnlySet<string> SignedActivations { get; }

    /// <summary>The plan being written.</summary>
    public StaticPlan Plan { get; }

    /// <summary>The model's default-domain opset.</summary>
    public long Opset { get; }

    /// <summary>
    /// How an activation (by its parameter source) is stored: a tensor override's type and symmetry first, then the
    /// signed right-hand operands of activation products, then the options.
    /// </summary>
    public (QuantizedType Type, bool Symmetric) ActivationFormat(string source)
    {
        if (Options.Overrides?.Tensors.TryGetValue(source, out var forced) == true && (forced.Type is not null || forced.Symmetric is not null))
            return (forced.Type ?? Options.ActivationType, forced.Symmetric ?? Options.SymmetricActivations);
        return SignedActivations.Contains(source) ? (QuantizedType.Int8, true) : (Options.ActivationType, Options.SymmetricActivations);
    }

    /// <summary>The integer range an activation (by its parameter source) is stored in.</summary>
    public (int Min, int Max) ActivationRange(string tensor)
    {
        var (type, symmetric) = ActivationFormat(Plan.ParameterSource(tensor));
        return QuantMath.IntegerRange(type, symmetric, reduceRange: false);
    }

    /// <summary>
    /// QuantizeLinear/DequantizeLinear come from ONNX at opset 13+ (per-axis needs it); below, from ONNX Runtime's
    /// contrib domain, whose version is independent of the model's opset.
    /// </summary>
    public string QdqDomain => Opset >= 13 ? "" : MicrosoftDomain;

    /// <summary>The scale and zero point of an activation tensor.</summary>
    public QuantParams ActivationParameters(string tensor)
    {
        var source = Plan.ParameterSource(tensor);
        if (_tableParameters.TryGetValue(source, out var table)) return table;
        if (!Plan.Ranges.TryGetValue(source, out var range))
            throw new InvalidOperationException($"No calibrated range for tensor '{source}'.");
        var (type, symmetric) = ActivationFormat(source);
        var (min, max) = QuantMath.IntegerRange(type, symmetric, reduceRange: false);
        return QuantMath.Compute(range.Min, range.Max, min, max, symmetric);
    }

    /// <summary>The element type a quantized activation is stored as.</summary>
    public DataType ActivationTypeOf(string tensor) => ActivationFormat(Plan.ParameterSource(tensor)).Type == QuantizedType.Int8 ? DataType.Int8 : DataType.Uint8;

    private static HashSet<string> FindSignedOperands(GraphEditor graph, StaticPlan plan, QuantizationOptions options)
    {
        var signed = new HashSet<string>(StringComparer.Ordinal);
        if (options.ActivationType != QuantizedType.UInt8 || options.SymmetricActivations) return signed;
        var sharedSources = new HashSet<string>(plan.SharedParameters.Values, StringComparer.Ordinal);
        foreach (var entry in plan.Nodes.Values)
        {
            if (entry.Node.OpType != "MatMul" || entry.ActivationInputs.Count != 2) continue;
            var operand = entry.Node.Input[1];
            if (plan.SharedParameters.ContainsKey(operand) || sharedSources.Contains(operand) || plan.TableOutputs.Contains(operand)) continue;
            bool onlyRightOperand = graph.Consumers(operand).All(c => c.OpType == "MatMul" && plan.Nodes.ContainsKey(c) && c.Input[0] != operand);
            var producer = graph.Producer(operand);
            if (onlyRightOperand && (producer is null || !plan.Nodes.ContainsKey(producer))) signed.Add(operand);
        }
        return signed;
    }

    /// <summary>Initializers holding an activation tensor's scale and zero point (shared by tensors that share parameters).</summary>
    public (string Scale, string ZeroPoint) ParameterInitializers(string tensor)
    {
        var source = Plan.ParameterSource(tensor);
        if (_parameterInitializers.TryGetValue(source, out var names)) return names;
        var parameters = ActivationParameters(source);
        var stem = Sanitize(source);
        var scale = AddFloatInitializer($"{stem}_scale", Array.Empty<long>(), new[] { parameters.Scale });
        var zeroPoint = Graph.UniqueName($"{stem}_zero_point");
        Graph.AddInitializer(TensorData.FromBytes(zeroPoint, Array.Empty<long>(), ActivationTypeOf(source), new[] { unchecked((byte)parameters.ZeroPoint) }));
        names = (scale, zeroPoint);
        _parameterInitializers[source] = names;
        return names;
    }

    /// <summary>A product's weight, int8 (or the weight type) symmetric, per channel along <paramref name="axis"/> when the options ask.</summary>
    public WeightInitializers Weight(string weight, int axis)
    {
        var options = Options;
        bool symmetric = options.WeightType == QuantizedType.Int8 && options.SymmetricWeights;
        var overrides = options.Overrides?.Tensors;
        TensorOverride? forced = null;
        if (overrides is not null && !overrides.TryGetValue(weight, out forced) && Preparation.BatchNormFolding.OriginalWeightName(weight) is { } original)
            overrides.TryGetValue(original, out forced);
        bool perChannel = forced?.PerChannel ?? options.PerChannel;
        int? channelAxis = perChannel ? axis : null;
        return QuantizeWeight(
            weight,
            $"static|{options.WeightType}|{symmetric}|{channelAxis}|{options.EffectiveReduceRange}",
            null,
            (values, dims) => WeightQuantizer.Quantize(values, dims, options.WeightType, symmetric, options.EffectiveReduceRange, channelAxis),
            q => q.Axis is int a ? new[] { q.Dims[a] } : Array.Empty<long>());
    }

    /// <summary>Quantizes an embedding table like the lookup's output (per tensor, from the table's min/max) and records its parameters as that output's.</summary>
    public WeightInitializers Table(string table, string lookupOutput)
    {
        var (type, symmetric) = ActivationFormat(Plan.ParameterSource(lookupOutput));
        var quantized = QuantizeWeight(
            table,
            $"activation|{type}|{symmetric}",
            null,
            (values, dims) => WeightQuantizer.Quantize(values, dims, type, symmetric, false, null),
            _ => Array.Empty<long>());
        _tableParameters[lookupOutput] = quantized.Tensor.Parameters[0];
        return quantized;
    }

    /// <summary>Quantizes every table lookup up front, so consumers can use their parameters in any order.</summary>
    public void QuantizeTables()
    {
        foreach (var entry in Plan.Nodes.Values.Where(e => e.Kind == Operators.StaticOperatorKind.TableLookup))
            Table(entry.Node.Input[0], entry.Node.Output[0]);
    }

    /// <summary>
    /// A bias as int32 with scale = input scale × weight scale (per channel) and zero point 0. Returns the int32
    /// initializer and the float scale initializer.
    /// </summary>
    public (string Data, string Scale) Bias(string bias, QuantParams input, WeightInitializers weight)
    {
        Graph.TryGetConstant(bias, out var tensor);
        var values = Graph.Model.ReadFloats(tensor);
        var weightParameters = weight.Tensor.Parameters;
        var scales = new float[weightParameters.Length];
        var data = new int[values.Length];
        for (int c = 0; c < scales.Length; c++) scales[c] = input.Scale * weightParameters[c].Scale;
        for (int i = 0; i < values.Length; i++)
        {
            float scale = scales[scales.Length == 1 ? 0 : i];
            data[i] = (int)Math.Clamp(Math.Round(values[i] / (double)scale, MidpointRounding.ToEven), int.MinValue + 1, int.MaxValue);
        }
        var stem = Sanitize(bias);
        var dataName = Graph.UniqueName($"{stem}_quantized");
        Graph.AddInitializer(TensorData.FromInt32(dataName, new long[] { values.Length }, data));
        var scaleName = AddFloatInitializer($"{stem}_scale", scales.Length == 1 ? Array.Empty<long>() : new long[] { scales.Length }, scales);
        return (dataName, scaleName);
    }

    /// <summary>Adds an int32 zero-point initializer shaped like a bias scale.</summary>
    public string Int32Zeros(string stem, int count)
    {
        var name = Graph.UniqueName($"{stem}_zero_point");
        Graph.AddInitializer(TensorData.FromInt32(name, count == 1 ? Array.Empty<long>() : new long[] { count }, new int[count]));
        return name;
    }
}
