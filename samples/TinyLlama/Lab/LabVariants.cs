using MLNet.Quantization;

namespace TinyLlama.Lab;

/// <summary>One row of the lab: a name and the options that make it from the float model (null: the float model itself).</summary>
/// <param name="Name">Row name.</param>
/// <param name="Options">Quantization options, or null for float.</param>
public sealed record LabVariant(string Name, QuantizationOptions? Options)
{
    private static QuantizationOptions WeightOnly(WeightOnlyOptions settings) => new() { Mode = QuantizationMode.WeightOnly, WeightOnly = settings };

    /// <summary>Float, FP16, INT8 weight-only, INT4 RTN (blocks of 32 and 128), HQQ, automatic INT4/INT8 mixed precision, GPTQ, NF4, FP4 and dynamic INT8.</summary>
    public static IReadOnlyList<LabVariant> All { get; } = new[]
    {
        new LabVariant("float32", null),
        new LabVariant("float16", new QuantizationOptions { Mode = QuantizationMode.Float16 }),
        new LabVariant("int8 weight-only b32", WeightOnly(new WeightOnlyOptions { Bits = 8, BlockSize = 32 })),
        new LabVariant("int4 RTN b32", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32 })),
        new LabVariant("int4 RTN b128", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 128 })),
        new LabVariant("int4 HQQ b32", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Hqq })),
        new LabVariant("int4/int8 mixed b32 (6 bits/weight)", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32, BitsPerWeightBudget = 6.0 })),
        new LabVariant("int4 GPTQ b32", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Gptq })),
        new LabVariant("nf4 b64", WeightOnly(new WeightOnlyOptions { Format = WeightOnlyFormat.Nf4, BlockSize = 64 })),
        new LabVariant("fp4 b64", WeightOnly(new WeightOnlyOptions { Format = WeightOnlyFormat.Fp4, BlockSize = 64 })),
        new LabVariant("dynamic int8", new QuantizationOptions { Mode = QuantizationMode.Dynamic }),
    };

    /// <summary>Whether this row needs calibration data (GPTQ).</summary>
    public bool NeedsCalibration => Options is { Mode: QuantizationMode.WeightOnly, WeightOnly.Algorithm: WeightOnlyAlgorithm.Gptq };

    /// <summary>A file-name-safe form of <see cref="Name"/>.</summary>
    public string FileStem => new(Name.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
}
