namespace MLNet.Quantization;

/// <summary>
/// Everything that controls a quantization run, in one immutable object. Create it with an object initializer;
/// unset properties keep the documented defaults.
/// </summary>
public sealed record QuantizationOptions
{
    /// <summary>Operator types quantized in dynamic mode when <see cref="OpTypesToQuantize"/> is empty.</summary>
    public static readonly IReadOnlyList<string> DefaultOpTypes = Operators.OperatorRegistry.DefaultOpTypes;

    /// <summary>
    /// Operator types quantized in static mode when <see cref="OpTypesToQuantize"/> is empty. Softmax is supported but
    /// not in this list: its input is often logits with an additive mask (-10000), whose range leaves 8 bits no
    /// precision for the values that matter. Normalization (LayerNormalization and its decomposed form) always stays float.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultStaticOpTypes = Operators.StaticOperators.DefaultOpTypes;

    /// <summary>Operator types static mode can quantize.</summary>
    public static readonly IReadOnlyList<string> SupportedStaticOpTypes = Operators.StaticOperators.SupportedOpTypes;

    /// <summary>Operator types dynamic mode can quantize (Conv only with <see cref="QuantizeConv"/>).</summary>
    public static readonly IReadOnlyList<string> SupportedDynamicOpTypes = Operators.OperatorRegistry.SupportedOpTypes;

    /// <summary>Operator types weight-only mode can quantize (and quantizes by default).</summary>
    public static readonly IReadOnlyList<string> SupportedWeightOnlyOpTypes = Planning.WeightOnlyPlanner.SupportedOpTypes;

    /// <summary>The quantization mode. Default: <see cref="QuantizationMode.Dynamic"/>.</summary>
    public QuantizationMode Mode { get; init; } = QuantizationMode.Dynamic;

    /// <summary>Weight-only mode: bits, block size, symmetry, algorithm and accuracy level. Default: 4-bit RTN, block 32, asymmetric.</summary>
    public WeightOnlyOptions WeightOnly { get; init; } = new();

    /// <summary>Float16 mode: the 16-bit type and which operators compute in it. Default: float16, ONNX Runtime's CPU kernels.</summary>
    public Float16Options Float16 { get; init; } = new();

    /// <summary>How a static model is written. Default: <see cref="QuantizationFormat.Qdq"/>.</summary>
    public QuantizationFormat Format { get; init; } = QuantizationFormat.Qdq;

    /// <summary>Element type of activations in static mode. Default: <see cref="QuantizedType.UInt8"/> (asymmetric).</summary>
    public QuantizedType ActivationType { get; init; } = QuantizedType.UInt8;

    /// <summary>Static mode: quantize activations symmetrically around 0. Default: false.</summary>
    public bool SymmetricActivations { get; init; }

    /// <summary>Static mode: how observed activations become ranges. Default: MinMax.</summary>
    public CalibrationMethod CalibrationMethod { get; init; } = CalibrationMethod.MinMax;

    /// <summary>The percentile used by <see cref="CalibrationMethod.Percentile"/>, in (50, 100]. Default: 99.999.</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>MinMax calibration: when set, ranges are a moving average over batches with this constant (e.g. 0.01).</summary>
    public float? MovingAverageConstant { get; init; }

    /// <summary>
    /// Static mode: quantize a MatMul of two activations (attention scores q·kᵀ, attention-weighted values p·v) even
    /// where its inputs come from float operators. Off by default: on the BERT-shaped benchmark it gained nothing
    /// (both operands are unsigned 8-bit, a slower kernel than unsigned × signed); with long sequences, where attention
    /// dominates, it can pay — measure with <c>mlnet-quantize compare</c>.
    /// </summary>
    public bool QuantizeActivationMatMuls { get; init; }

    /// <summary>
    /// Static mode: measure the quantized model against the float model in ONNX Runtime (one thread, interleaved
    /// runs, median, on the first calibration sample) and hand integer regions that do not pay back to float, least
    /// compute per converted element first, until the model is not slower than float. Default: true. Turn off only
    /// when the model will run on other hardware than the machine quantizing it.
    /// </summary>
    public bool LatencyGuard { get; init; } = true;

    /// <summary>
    /// Static mode: closed-loop tuning to an accuracy target on separate evaluation data (see <see cref="TuningOptions"/>).
    /// Null (the default) writes the full plan. When no plan meets the target, <see cref="TuningTargetException"/> is
    /// thrown and nothing is written.
    /// </summary>
    public TuningOptions? Tuning { get; init; }

    /// <summary>
    /// Static mode: activation ranges from an earlier run (<see cref="QuantizationReport.Calibration"/>, or
    /// <see cref="CalibrationResult.Load"/>), used instead of observing them again; calibration data is then needed
    /// only for tensors it lacks and for the latency guard's timing.
    /// </summary>
    public CalibrationResult? Calibration { get; init; }

    /// <summary>
    /// Static mode and GPTQ: at most this many calibration rows (samples) are read. Default: 300. Static calibration
    /// reads them one at a time; GPTQ holds every sample's values between layers (for a decoder about samples × tokens
    /// × hidden × 4 bytes per value it keeps, e.g. the residual stream), so for long sequences give it fewer samples.
    /// </summary>
    public int MaxCalibrationSamples { get; init; } = 300;

    /// <summary>
    /// Static mode and GPTQ: run calibration (the float model over the calibration samples; GPTQ's layer-by-layer
    /// inputs) with ONNX Runtime's CUDA provider on this GPU, as ML.NET's <c>gpuDeviceId</c>, with TF32 off so that
    /// products are float32 as on the CPU. Null (the default): the CPU. The application must reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime; where the
    /// GPU cannot be used the run stops before any work with an error naming what is missing, unless
    /// <see cref="FallbackToCpu"/>. The latency guard, tuning's candidates and the check that the output loads still
    /// run on the CPU: they judge the CPU's quantized kernels (turn <see cref="LatencyGuard"/> off for a GPU deployment).
    /// </summary>
    public int? GpuDeviceId { get; init; }

    /// <summary>
    /// When <see cref="GpuDeviceId"/> cannot be used, calibrate on the CPU and say so in the report's notes instead of
    /// failing. Default: false.
    /// </summary>
    public bool FallbackToCpu { get; init; }

    /// <summary>
    /// ML.NET static mode: calibrate on this data instead of the data given to <c>Fit</c>. Columns are mapped to model
    /// inputs by the same names as the data given to <c>Fit</c>.
    /// </summary>
    public Microsoft.ML.IDataView? CalibrationData { get; init; }

    /// <summary>Element type of quantized MatMul/Gemm/LSTM weights. Default: <see cref="QuantizedType.Int8"/>.</summary>
    public QuantizedType WeightType { get; init; } = QuantizedType.Int8;

    /// <summary>One scale per output channel (per column of a MatMul weight) instead of one per tensor. Default: true.</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>Symmetric weights (zero point in the middle of the range). Default: true for int8 weights.</summary>
    public bool SymmetricWeights { get; init; } = true;

    /// <summary>
    /// Use 7-bit weight ranges. On x86-64 CPUs without VNNI, ONNX Runtime's 8-bit products add pairs into 16-bit
    /// lanes that saturate with full-range weights (measured: output cosine 0.94–0.99 instead of 0.9999 on an AVX2
    /// machine). Default: null = automatic, 7-bit exactly when the CPU running the quantizer lacks VNNI; set true or
    /// false when the model will run on a different machine.
    /// </summary>
    public bool? ReduceRange { get; init; }

    /// <summary>Whether this run quantizes weights to 7 bits: <see cref="ReduceRange"/>, or when it is null whether this CPU needs it (no VNNI).</summary>
    public bool EffectiveReduceRange => ReduceRange ?? Hardware.CpuFeatures.UnsignedSignedProductsSaturate;

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

    /// <summary>Per-node and per-tensor exceptions (keep float, fixed activation ranges, per-channel weights). Default: none.</summary>
    public QuantizationOverrides? Overrides { get; init; }

    /// <summary>The node names this run keeps float: <see cref="NodesToExclude"/> and the overrides' keep-float list.</summary>
    internal IEnumerable<string> ExcludedNodes => NodesToExclude.Concat(Overrides?.KeepFloat ?? Array.Empty<string>());

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
        var defaults = Mode switch
        {
            QuantizationMode.Static => DefaultStaticOpTypes,
            QuantizationMode.WeightOnly => SupportedWeightOnlyOpTypes,
            _ => DefaultOpTypes,
        };
        var types = new HashSet<string>(OpTypesToQuantize.Count > 0 ? OpTypesToQuantize : defaults, StringComparer.Ordinal);
        if (QuantizeConv && Mode == QuantizationMode.Dynamic) types.Add("Conv");
        types.ExceptWith(OpTypesToExclude);
        return types;
    }

    private string ModeName => Mode == QuantizationMode.WeightOnly ? "weight-only" : Mode.ToString().ToLowerInvariant();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a property holds a value that cannot work.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Mode)) throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Unknown quantization mode.");
        if (!Enum.IsDefined(WeightType)) throw new ArgumentOutOfRangeException(nameof(WeightType), WeightType, "Weight type must be Int8 or UInt8.");
        if (!Enum.IsDefined(MatMulForm)) throw new ArgumentOutOfRangeException(nameof(MatMulForm), MatMulForm, "Unknown MatMul form.");
        if (MinimumWeightElements < 0) throw new ArgumentOutOfRangeException(nameof(MinimumWeightElements), MinimumWeightElements, "Must be zero or more.");
        if (!Enum.IsDefined(Format)) throw new ArgumentOutOfRangeException(nameof(Format), Format, "Format must be Qdq or QOperator.");
        if (!Enum.IsDefined(ActivationType)) throw new ArgumentOutOfRangeException(nameof(ActivationType), ActivationType, "Activation type must be UInt8 or Int8.");
        if (!Enum.IsDefined(CalibrationMethod)) throw new ArgumentOutOfRangeException(nameof(CalibrationMethod), CalibrationMethod, "Calibration method must be MinMax, Percentile or Entropy.");
        if (!(Percentile > 50 && Percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(Percentile), Percentile, "The percentile must be in (50, 100], e.g. 99.999.");
        if (MovingAverageConstant is <= 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(MovingAverageConstant), MovingAverageConstant, "The moving-average constant must be in (0, 1], e.g. 0.01.");
        if (Tuning is not null && Mode != QuantizationMode.Static) throw new ArgumentOutOfRangeException(nameof(Tuning), "Tuning needs static mode (Mode = Static).");
        Tuning?.Validate();
        Overrides?.Validate();
        if (Format == QuantizationFormat.QOperator && Overrides?.Tensors.FirstOrDefault(t => t.Value.Type is not null) is { Key: { } typed })
            throw new ArgumentOutOfRangeException(nameof(Overrides), $"The override for tensor '{typed}' sets an activation type, which only the QDQ format can mix (QOperator's QLinear operators need one type on all their inputs). Use Format = Qdq or drop the type.");
        if (GpuDeviceId < 0) throw new ArgumentOutOfRangeException(nameof(GpuDeviceId), GpuDeviceId, "A CUDA device number is 0 or more (null runs calibration on the CPU).");
        if (MaxCalibrationSamples < 1) throw new ArgumentOutOfRangeException(nameof(MaxCalibrationSamples), MaxCalibrationSamples, "At least one calibration sample is needed.");
        if (WeightOnly is null) throw new ArgumentNullException(nameof(WeightOnly), "WeightOnly must not be null; leave it unset for the defaults.");
        if (Mode == QuantizationMode.WeightOnly) WeightOnly.Validate();
        if (Float16 is null) throw new ArgumentNullException(nameof(Float16), "Float16 must not be null; leave it unset for the defaults.");
        if (Mode == QuantizationMode.Float16)
        {
            Float16.Validate();
            if (OpTypesToQuantize.Count > 0 || NodesToQuantize.Count > 0)
                throw new ArgumentOutOfRangeException(nameof(OpTypesToQuantize), "Float16 mode converts every float32 weight; choose what computes in float16 with Float16.HalfComputeOpTypes, and keep nodes float32 with NodesToExclude or OpTypesToExclude.");
            return;
        }
        var known = new HashSet<string>(Mode switch
        {
            QuantizationMode.Static => SupportedStaticOpTypes,
            QuantizationMode.WeightOnly => SupportedWeightOnlyOpTypes,
            _ => SupportedDynamicOpTypes,
        }, StringComparer.Ordinal);
        foreach (var op in OpTypesToQuantize)
        {
            if (!known.Contains(op))
                throw new ArgumentOutOfRangeException(nameof(OpTypesToQuantize), op, $"Operator type '{op}' cannot be quantized in {ModeName} mode. Supported: {string.Join(", ", known)}.");
        }
    }
}
