using System.CommandLine;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary>The <c>--device</c> option: <c>cpu</c>, or <c>cuda</c> / <c>cuda:N</c> for ONNX Runtime's CUDA provider on device N.</summary>
internal static class ExecutionDevice
{
    /// <summary>A <c>--device</c> option with <paramref name="description"/>, accepting <c>cpu</c>, <c>cuda</c> and <c>cuda:N</c>.</summary>
    public static Option<string> CreateOption(string description)
    {
        var option = new Option<string>("--device") { Description = description, DefaultValueFactory = _ => "cpu" };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!TryParse(value, out _)) result.AddError($"--device must be cpu, cuda or cuda:N (a CUDA device number), not '{value}'.");
        });
        return option;
    }

    /// <summary>The CUDA device <paramref name="device"/> names, or null for the CPU.</summary>
    public static int? GpuDeviceId(string device) => TryParse(device, out var id) ? id : throw new UsageException($"--device must be cpu, cuda or cuda:N, not '{device}'.");

    /// <summary>How reports name the device: "1 thread" on the CPU, "CUDA device N" on a GPU.</summary>
    public static string Describe(string device) => GpuDeviceId(device) is int id ? $"CUDA device {id}" : "1 thread";

    /// <summary>
    /// Session options for <c>compare</c> on <paramref name="device"/>: one thread, plus the CUDA provider on a GPU,
    /// which is probed first so that a device that cannot start gives the one error naming what is missing.
    /// </summary>
    public static SessionOptions Options(string device)
    {
        var gpu = GpuDeviceId(device);
        if (gpu is int probed && CudaProvider.Probe(probed, exactFloat32: false) is { } failure)
            throw CudaProvider.Unavailable(probed, $"--device {device}", failure);
        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        if (gpu is not int id) return options;
        try
        {
            CudaProvider.Append(options, id, $"--device {device}", exactFloat32: false);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private static bool TryParse(string? device, out int? id)
    {
        id = null;
        if (device == "cpu") return true;
        if (device == "cuda") { id = 0; return true; }
        if (device is null || !device.StartsWith("cuda:", StringComparison.Ordinal)) return false;
        if (!int.TryParse(device.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var number)) return false;
        id = number;
        return true;
    }
}
