using Microsoft.ML.OnnxRuntime;

namespace MLNet.Quantization.Cli;

/// <summary>Where <c>compare</c> runs the models: ONNX Runtime's CPU provider (one thread) or its CUDA provider.</summary>
internal static class ExecutionDevice
{
    /// <summary>The devices <c>--device</c> accepts.</summary>
    public static readonly string[] Names = { "cpu", "cuda" };

    /// <summary>Session options for <paramref name="device"/>; a clear error when the CUDA provider cannot start.</summary>
    public static SessionOptions Options(string device)
    {
        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        if (device != "cuda") return options;
        try
        {
            options.AppendExecutionProvider_CUDA(0);
            return options;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            options.Dispose();
            throw new InvalidOperationException(
                "--device cuda needs ONNX Runtime's CUDA execution provider, which could not start here. The application must reference "
                + "Microsoft.ML.OnnxRuntime.Gpu 1.31.0 (not Microsoft.ML.OnnxRuntime; build the CLI with -p:OnnxRuntimeNativePackage=Microsoft.ML.OnnxRuntime.Gpu "
                + "-p:OnnxRuntimeNativeVersion=1.31.0), and the machine needs an NVIDIA GPU with its driver, CUDA 12 (libcudart.so.12, libcublas.so.12, "
                + $"libcublasLt.so.12, libcufft.so.11, libcurand.so.10) and cuDNN 9 (libcudnn.so.9) on the library path. ONNX Runtime said: {e.Message}", e);
        }
    }
}
