using System.Runtime.Intrinsics.X86;

namespace MLNet.Quantization.Hardware;

/// <summary>
/// What the CPU running this process offers for 8-bit products. On x86-64 without VNNI, ONNX Runtime's
/// unsigned × signed 8-bit kernels add pairs of products into 16-bit lanes (vpmaddubsw), which saturate when
/// 8-bit activations meet full-range int8 weights; 7-bit weights keep every pair sum in range.
/// </summary>
internal static class CpuFeatures
{
    private static readonly Lazy<bool> Saturates = new(Detect);

    /// <summary>True when ONNX Runtime's u8 × s8 kernels on this CPU can saturate (x86-64 without AVX-VNNI or AVX512-VNNI).</summary>
    public static bool UnsignedSignedProductsSaturate => Saturates.Value;

    /// <summary>A short description for reports, e.g. "x86-64 AVX2 without VNNI".</summary>
    public static string Describe() =>
        !X86Base.IsSupported ? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()
        : UnsignedSignedProductsSaturate ? $"x86-64 {(Avx2.IsSupported ? "AVX2" : "SSE")} without VNNI"
        : "x86-64 with VNNI";

    private static bool Detect()
    {
        if (!X86Base.IsSupported) return false;
        var leaf7 = X86Base.CpuId(7, 0);
        bool avx512Vnni = Avx512F.IsSupported && (leaf7.Ecx & (1 << 11)) != 0;
        bool avxVnni = Avx2.IsSupported && leaf7.Eax >= 1 && (X86Base.CpuId(7, 1).Eax & (1 << 4)) != 0;
        return !(avx512Vnni || avxVnni);
    }
}
