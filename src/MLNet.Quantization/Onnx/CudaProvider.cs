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
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int Device, bool ExactFloat32), bool> Started = new();

    /// <summary>
    /// Null when a session with the CUDA provider opens on <paramref name="deviceId"/> and runs a MatMul and a Relu
    /// there; otherwise ONNX Runtime's reason. The provider's libraries can load on a machine whose GPU, driver or
    /// cuDNN is missing or too old, and only a session (some of it only a run) finds that out. A device that started
    /// once is not probed again in this process.
    /// </summary>
    /// <param name="deviceId">The CUDA device.</param>
    /// <param name="exactFloat32">Configure the provider as <see cref="Append"/> will, with TF32 off.</param>
    public static string? Probe(int deviceId, bool exactFloat32)
    {
        if (Started.ContainsKey((deviceId, exactFloat32))) return null;
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            AppendProvider(options, deviceId, exactFloat32);
            var builder = new GraphBuilder("cuda-probe", 13);
            var x = builder.Input("x", TensorElementType.Float, 1L, 1L);
            var product = builder.Node("MatMul", new[] { x, builder.Initializer("w", new long[] { 1, 1 }, new[] { 2f }) });
            builder.Node("Relu", new[] { product }, "y");
            builder.Output("y", TensorElementType.Float, 1L, 1L);
            using var session = new InferenceSession(OnnxModelFile.ToBytes(builder.Build()), options);
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(new[] { 1.5f }, new[] { 1, 1 })) });
            if (results.First().AsTensor<float>().GetValue(0) != 3f) return "a MatMul on the device gave a wrong result.";
            Started.TryAdd((deviceId, exactFloat32), true);
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

    /// <summary>
    /// Appends the provider through its options object, whose failure message (unlike the device-number overload's)
    /// carries the loader's error, e.g. the CUDA library that is missing.
    /// </summary>
    private static void AppendProvider(SessionOptions options, int deviceId, bool exactFloat32)
    {
        using var cuda = new OrtCUDAProviderOptions();
        var settings = new Dictionary<string, string> { ["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture) };
        if (exactFloat32) settings["use_tf32"] = "0";
        cuda.UpdateOptions(settings);
        options.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>The one error for a CUDA provider that cannot start: what the application and the machine need, and what this process has.</summary>
    public static InvalidOperationException Unavailable(int deviceId, string requestedBy, string reason, Exception? inner = null) => new(
        $"{requestedBy} asks for CUDA device {deviceId}, but ONNX Runtime's CUDA execution provider could not start on it here. The application must reference "
        + "Microsoft.ML.OnnxRuntime.Gpu 1.31.0 instead of Microsoft.ML.OnnxRuntime (the CLI: build it with -p:OnnxRuntimeNativePackage=Microsoft.ML.OnnxRuntime.Gpu "
        + "-p:OnnxRuntimeNativeVersion=1.31.0), and the machine needs an NVIDIA GPU whose driver supports CUDA 13, and the CUDA libraries that build links on the "
        + "library path (1.31.0 for Linux: libcudart.so.13, libcublas.so.13, libcublasLt.so.13 and libcurand.so.10, and cuDNN 9). "
        + $"{Installed()}ONNX Runtime said: {reason}", inner);

    /// <summary>Whether this application ships the CUDA provider at all: the CPU build of ONNX Runtime does not.</summary>
    private static string Installed()
    {
        string name = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        string rid = $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        bool present = new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native") }.Any(folder => File.Exists(Path.Combine(folder, name)));
        return present
            ? $"This application ships the CUDA provider ({name}), so a library it loads, the driver or the device number is what failed. "
            : $"This application has no {name}: it ships the CPU build of ONNX Runtime. ";
    }
}
