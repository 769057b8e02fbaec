using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Calibration;

/// <summary>
/// Where calibration sessions run: the CPU, or the CUDA device of <see cref="QuantizationOptions.GpuDeviceId"/>. The
/// device is checked once, before any work, so a missing GPU stops the run at once (or falls back to the CPU).
/// </summary>
internal static class CalibrationDevice
{
    private const string OptionName = "QuantizationOptions.GpuDeviceId (CLI: --device)";

    /// <summary>
    /// The options calibration runs with: <paramref name="options"/> when it asks for no GPU or its GPU starts, the same
    /// with the GPU cleared when the run calibrates nothing or falls back to the CPU. Each outcome is a note.
    /// </summary>
    /// <param name="options">The run's options.</param>
    /// <param name="calibrates">Whether this run calibrates (static mode with data, GPTQ).</param>
    /// <param name="notes">The report's notes.</param>
    public static QuantizationOptions Resolve(QuantizationOptions options, bool calibrates, List<string> notes)
    {
        if (options.GpuDeviceId is not int device) return options;
        if (!calibrates)
        {
            notes.Add($"GPU device {device} was not used: only calibration (static mode, weight-only GPTQ) runs a model on a device, and this run calibrates nothing.");
            return options with { GpuDeviceId = null };
        }
        if (CudaProvider.Probe(device, exactFloat32: true) is not { } failure)
        {
            notes.Add(options.Mode == QuantizationMode.Static
                ? $"calibration uses CUDA device {device} (float32 products, TF32 off); the latency guard, tuning and the output check run on the CPU."
                : $"GPTQ computes its layer inputs on CUDA device {device} (float32 products, TF32 off).");
            return options;
        }
        if (!options.FallbackToCpu) throw CudaProvider.Unavailable(device, OptionName, failure);
        notes.Add($"calibration ran on the CPU: CUDA device {device} could not start (FallbackToCpu). ONNX Runtime said: {failure}");
        return options with { GpuDeviceId = null };
    }

    /// <summary>" on CUDA device N" for messages about a calibration session, when it runs on a GPU.</summary>
    public static string Where(QuantizationOptions options) => options.GpuDeviceId is int device ? $" on CUDA device {device}" : "";

    /// <summary>For messages about a calibration session on a GPU: how to rule the device out.</summary>
    public static string Hint(QuantizationOptions options) => options.GpuDeviceId is null ? "" : "; to rule out the GPU, calibrate on the CPU (GpuDeviceId = null, --device cpu)";

    /// <summary>Adds the CUDA provider to <paramref name="session"/> when <paramref name="options"/> calibrate on a GPU (disposing it when that fails).</summary>
    public static SessionOptions Apply(SessionOptions session, QuantizationOptions options)
    {
        if (options.GpuDeviceId is not int device) return session;
        try
        {
            CudaProvider.Append(session, device, OptionName, exactFloat32: true);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
