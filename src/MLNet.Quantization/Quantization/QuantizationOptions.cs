namespace MLNet.Quantization;

/// <summary>
/// Everything that controls a quantization run, in one immutable object. Create it with an object initializer;
/// unset properties keep the documented defaults.
/// </summary>
public sealed record QuantizationOptions
{
    /// <summary>Operator types quantized when <see cref="OpTypesToQuantize"/> is empty.</summary>
    public static readonly IReadOnlyList<string> DefaultOpTypes = new[] { "MatMul", "Gemm", "Gather", "LSTM" };

    /// <summary>The quantization mode. Default: <see cref="QuantizationMode.Dynamic"/>.</summary>
    public QuantizationMode Mode { get; init; } = QuantizationMode.Dynamic;

    /// <summary>Element type of quantized MatMul/Gemm/LSTM weights. Default: <see cref="QuantizedType.Int8"/>.</summary>
    public QuantizedType WeightType { get; init; } = QuantizedType.Int8;

    /// <summary>One scale per output channel (per column of a MatMul weight) instead of one per tensor. Default: true.</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>Symmetric weights (zero point in the middle of the range). Default: true for int8 weights.</summary>
    public bool SymmetricWeights { get; init; } = true;

    /// <summary>Use 7-bit weight ranges, for CPUs without VNNI where 8-bit products can saturate. Default: false.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>How MatMul and Gemm are written. Default: <see cref="DynamicMatMulForm.Fused"/> (measured fastest, see README).</summary>
    public DynamicMatMulForm MatMulForm { get; init; } = DynamicMatMulForm.Fused;

    /// <summary>Operator types to quantize; empty means <see cref="DefaultOpTypes"/> (plus Conv if <see cref="QuantizeConv"/>).</summary>
    public IReadOnlyList<string> OpTypesToQuantize { get; init; } = Array.Empty<string>();

    /// <summary>Operator types never quantized.</summary>
    public IReadOnlyList<string> OpTypesToExclude { get; init; } = Array.Empty<string>();

    /// <summary>If not empty, only nodes with these names are quantized.</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = Array.Empty<string>();

    /// <summary>Nodes (by name) never quantized.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = Array.Empty<string>();

    /// <summary>Weights with fewer elements stay float: the size saved would not pay for the accuracy lost. Default: 256.</summary>
    public long MinimumWeightElements { get; init; } = 256;

    /// <summary>
    /// Quantize Conv to ConvInteger. Off by default: ONNX Runtime's CPU ConvInteger is several times slower than float
    /// Conv, so dynamic quantization would make the model slower. Turn on only to trade speed for size.
    /// </summary>
    public bool QuantizeConv { get; init; }

    /// <summary>The operator types this run considers, after applying the include and exclude lists.</summary>
    public IReadOnlySet<string> EffectiveOpTypes()
    {
        var types = new HashSet<string>(OpTypesToQuantize.Count > 0 ? OpTypesToQuantize : DefaultOpTypes, StringComparer.Ordinal);
        if (QuantizeConv) types.Add("Conv");
        types.ExceptWith(OpTypesToExclude);
        return types;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a property holds a value that cannot work.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Mode)) throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Unknown quantization mode.");
        if (!Enum.IsDefined(WeightType)) throw new ArgumentOutOfRangeException(nameof(WeightType), WeightType, "Weight type must be Int8 or UInt8.");
        if (!Enum.IsDefined(MatMulForm)) throw new ArgumentOutOfRangeException(nameof(MatMulForm), MatMulForm, "Unknown MatMul form.");
        if (MinimumWeightElements < 0) throw new ArgumentOutOfRangeException(nameof(MinimumWeightElements), MinimumWeightElements, "Must be zero or more.");
        var known = new HashSet<string>(DefaultOpTypes.Append("Conv"), StringComparer.Ordinal);
        foreach (var op in OpTypesToQuantize)
        {
            if (!known.Contains(op))
                throw new ArgumentOutOfRangeException(nameof(OpTypesToQuantize), op, $"Operator type '{op}' cannot be quantized in dynamic mode. Supported: {string.Join(", ", known)}.");
        }
    }
}
