using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// ONNX Runtime's CUDA execution provider for the sessions this project opens on a GPU: calibration and the CLI's
/// <c>compare</c>. It checks once that the provider starts on the device, and names what is missing when it cannot.
/// </summary>
internal static class CudaProvider
{
    /// <summary>
    /// Null when a session with the CUDA provider opens on <paramref name="deviceId"/>; otherwise ONNX Runtime's reason.
    /// A session is opened (on a one-node model) because the provider's libraries can load on a machine whose GPU
    /// or driver is missing, and only a session finds that out.
    /// </summary>
    /// <param name="deviceId">The CUDA device.</param>
    /// <param name="exactFloat32">Configure the provider as <see cref="Append"/> will, with TF32 off.</param>
    public static string? Probe(int deviceId, bool exactFloat32)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            AppendProvider(options, deviceId, exactFloat32);
            var builder = new GraphBuilder("cuda-probe", 13);
            builder.Input("x", TensorElementType.Float, 1L);
            builder.Node("Identity", new[] { "x" }, "y");
            builder.Output("y", TensorElementType.Float, 1L);
            using var session = new InferenceSession(OnnxModelFile.ToBytes(builder.Build()), options);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return e.Message.Trim();
        }
    }

    /// <summary>Appends the CUDA provider for <paramref name="deviceId"/>; throws <see cref="Unavailable"/>'s error when it cannot.</summary>
    /// <param name="options">The session options to extend.</param>
    /// <param name="deviceId">The CUDA device.</param>
    /// <param name="requestedBy">What asked for the GPU, as the user wrote it (an option name).</param>
    /// <param name="exactFloat32">
    /// Turn off TF32, which ONNX Runtime's CUDA provider uses by default for float MatMul, Gemm and Conv (10-bit
    /// mantissa products): calibration observes the float model as the CPU computes it. Measuring keeps the default,
    /// as a deployment runs.
    /// </param>
    public static void Append(SessionOptions options, int deviceId, string requestedBy, bool exactFloat32)
    {
        try
        {
            AppendProvider(options, deviceId, exactFloat32);
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw Unavailable(deviceId, requestedBy, e.Message.Trim(), e);
        }
    }

    private static void AppendProvider(SessionOptions options, int deviceId, bool exactFloat32)
    {
        if (!exactFloat32)
        {
            options.AppendExecutionProvider_CUDA(deviceId);
            return;
        }
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture), ["use_tf32"] = "0" });
        options.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>The one error for a CUDA provider that cannot start: what the application and the machine need, and what is missing here.</summary>
    public static InvalidOperationException Unavailable(int deviceId, string requestedBy, string reason, Exception? inner = null) => new(
        $"{requestedBy} asks for CUDA device {deviceId}, but ONNX Runtime's CUDA execution provider could not start on it here. The application must reference "
        + "Microsoft.ML.OnnxRuntime.Gpu 1.31.0 instead of Microsoft.ML.OnnxRuntime (the CLI: build it with -p:OnnxRuntimeNativePackage=Microsoft.ML.OnnxRuntime.Gpu "
        + "-p:OnnxRuntimeNativeVersion=1.31.0), and the machine needs an NVIDIA GPU with its driver and the CUDA libraries that build links on the library path "
        + "(1.31.0 for Linux: CUDA 13's libcudart.so.13, libcublas.so.13, libcublasLt.so.13 and libcurand.so.10, and cuDNN 9). "
        + $"{Diagnose()}ONNX Runtime said: {reason}", inner);

    /// <summary>
    /// What keeps the provider from loading in this process, as far as the loader can tell: its library is not in the
    /// application (the CPU build), or a library it links is missing (the loader names the first).
    /// </summary>
    private static string Diagnose()
    {
        string name = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        string rid = $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        var path = new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native") }
            .Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
        if (path is null) return $"This application has no {name}: it ships the CPU build of ONNX Runtime. ";
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return "";
        }
        catch (DllNotFoundException e)
        {
            var cause = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            int colon = cause.LastIndexOf("variable: ", StringComparison.Ordinal);
            return $"Loading {name} failed here: {(colon >= 0 ? cause[(colon + "variable: ".Length)..] : cause).TrimEnd('.')}. ";
        }
    }
}
