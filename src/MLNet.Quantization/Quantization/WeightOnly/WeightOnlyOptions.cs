namespace MLNet.Quantization;

/// <summary>
/// Settings of <see cref="QuantizationMode.WeightOnly"/>: MatMul weights become blocks of 2-, 4- or 8-bit codes with a
/// scale (and zero point) per block along the reduction axis, run by ONNX Runtime's <c>com.microsoft.MatMulNBits</c>;
/// activations stay float.
/// </summary>
public sealed record WeightOnlyOptions
{
    /// <summary>
    /// What the codes stand for: <see cref="WeightOnlyFormat.Integer"/> (MatMulNBits, the default) or the 4-bit
    /// <see cref="WeightOnlyFormat.Nf4"/> / <see cref="WeightOnlyFormat.Fp4"/> code books (MatMulBnb4, one absmax per
    /// block; <see cref="Symmetric"/> and <see cref="AccuracyLevel"/> do not apply, the algorithm is RTN).
    /// </summary>
    public WeightOnlyFormat Format { get; init; } = WeightOnlyFormat.Integer;

    /// <summary>Bits per weight code: 2, 4 or 8 (4 for NF4 and FP4). Default: 4.</summary>
    public int Bits { get; init; } = 4;

    /// <summary>Weights per block along K (the reduction axis): a power of two from 16 to 256. Default: 32.</summary>
    public int BlockSize { get; init; } = 32;

    /// <summary>
    /// Symmetric blocks: no zero points are stored (ONNX Runtime assumes the middle code) and the block's largest
    /// magnitude sets its scale. Default: false (asymmetric: a zero point per block, more accurate for skewed blocks).
    /// </summary>
    public bool Symmetric { get; init; }

    /// <summary>How scales and zero points are chosen. Default: <see cref="WeightOnlyAlgorithm.Rtn"/>.</summary>
    public WeightOnlyAlgorithm Algorithm { get; init; } = WeightOnlyAlgorithm.Rtn;

    /// <summary>
    /// MatMulNBits' <c>accuracy_level</c>: 0 (unset) or 1 computes in float32; 4 quantizes activations to int8 per block
    /// and uses integer dot products (fastest on CPUs, slightly less accurate). Default: 4.
    /// </summary>
    public int AccuracyLevel { get; init; } = 4;

    /// <summary>
    /// Automatic mixed precision: the average stored bits per weight (codes, scales and zero points) allowed over the
    /// quantized weights. Starting from <see cref="Bits"/> = 4 everywhere, the weights whose 4-bit round-to-nearest
    /// error (relative to their norm) is largest get 8 bits, largest error first, while the average stays within the
    /// budget. Null (default): every weight gets <see cref="Bits"/>. Integer format only.
    /// </summary>
    public double? BitsPerWeightBudget { get; init; }

    /// <summary>
    /// GPTQ: visit the rows in order of decreasing Hessian diagonal (act-order, "desc_act"), with each block's scale
    /// and zero point fixed beforehand from the float weight so the layout needs no g_idx. Helps when a few input
    /// features carry most of the activation energy. Default: false.
    /// </summary>
    public bool GptqActOrder { get; init; }

    /// <summary>GPTQ: the damping λ added to the Hessian's diagonal, as a share of its mean (0, 1]. Default: 0.01.</summary>
    public double GptqDamping { get; init; } = 0.01;

    /// <summary>Stored bits per weight with <paramref name="bits"/>-bit codes: the code, the block's float scale and (asymmetric) its zero point.</summary>
    internal double StoredBits(int bits) => bits + 32.0 / BlockSize + (Symmetric ? 0 : (double)bits / BlockSize);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for settings ONNX Runtime cannot run.</summary>
    public void Validate()
    {
        if (Bits is not (2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(Bits), Bits, "Weight-only quantization writes 2-, 4- or 8-bit codes (MatMulNBits).");
        if (BlockSize < 16 || BlockSize > 256 || (BlockSize & (BlockSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "The block size must be a power of two from 16 to 256 (e.g. 32, 64 or 128).");
        if (!Enum.IsDefined(Algorithm)) throw new ArgumentOutOfRangeException(nameof(Algorithm), Algorithm, "The algorithm must be Rtn, Hqq or Gptq.");
        if (!(GptqDamping > 0 && GptqDamping <= 1)) throw new ArgumentOutOfRangeException(nameof(GptqDamping), GptqDamping, "The GPTQ damping must be in (0, 1], e.g. 0.01.");
        if (!Enum.IsDefined(Format)) throw new ArgumentOutOfRangeException(nameof(Format), Format, "The format must be Integer, Nf4 or Fp4.");
        if (Format != WeightOnlyFormat.Integer && Bits != 4) throw new ArgumentOutOfRangeException(nameof(Bits), Bits, $"{Format} codes have 4 bits; leave Bits at 4 or use the Integer format for 2 or 8 bits.");
        if (Format != WeightOnlyFormat.Integer && Algorithm != WeightOnlyAlgorithm.Rtn)
            throw new ArgumentOutOfRangeException(nameof(Algorithm), Algorithm, $"{Format} blocks are scaled by their absolute maximum and rounded to the nearest code (as bitsandbytes does); HQQ and GPTQ apply to the Integer format.");
        if (GptqActOrder && Algorithm != WeightOnlyAlgorithm.Gptq) throw new ArgumentOutOfRangeException(nameof(GptqActOrder), GptqActOrder, "Act-order is a GPTQ option; set Algorithm = Gptq or leave GptqActOrder off.");
        if (BitsPerWeightBudget is { } budget)
        {
            if (Format != WeightOnlyFormat.Integer || Bits != 4)
                throw new ArgumentOutOfRangeException(nameof(BitsPerWeightBudget), budget, "Mixed precision raises 4-bit integer weights to 8 bits; use Bits = 4 with the Integer format.");
            double floor = StoredBits(4), ceiling = StoredBits(8);
            if (!(budget > floor && budget <= ceiling))
                throw new ArgumentOutOfRangeException(nameof(BitsPerWeightBudget), budget, $"With blocks of {BlockSize} the budget must lie above {floor:F2} bits/weight (all 4-bit) and at most {ceiling:F2} (all 8-bit), e.g. {Math.Round((floor + ceiling) / 2, 1)}.");
        }
        if (AccuracyLevel is < 0 or > 4) throw new ArgumentOutOfRangeException(nameof(AccuracyLevel), AccuracyLevel, "The accuracy level must be 0 to 4 (0 or 1: float32 compute, 4: int8 compute).");
    }
}
