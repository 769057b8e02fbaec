using System.Runtime.InteropServices;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Hands memory that native code (ONNX Runtime) freed back to the operating system. glibc keeps freed blocks in the
/// process for reuse by later native allocations, but the quantizer's own allocations come from the .NET heap, so
/// without this a closed ONNX Runtime session's weights would stay in the working set for the whole run.
/// </summary>
internal static partial class NativeMemory
{
    /// <summary>Returns free native heap memory to the OS on Linux with glibc; does nothing elsewhere.</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl, for one): nothing to trim this way.
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
