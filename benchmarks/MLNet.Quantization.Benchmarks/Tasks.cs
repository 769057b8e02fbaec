using MLNet.Quantization.ModelZoo;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Benchmarks;

/// <summary>Non-BenchmarkDotNet tasks: writing the benchmark model and measuring quantization memory.</summary>
public static class Tasks
{
    /// <summary>Writes bert.onnx and test_data_set_0 (batch 4 × 128) into <paramref name="folder"/>.</summary>
    public static int Generate(string folder)
    {
        Directory.CreateDirectory(folder);
        var shape = new BertShape();
        OnnxModelFile.Save(BertModelBuilder.Build(shape), Path.Combine(folder, "bert.onnx"));
        var set = Directory.CreateDirectory(Path.Combine(folder, "data", "test_data_set_0")).FullName;
        var inputs = BertInputs.Create(batch: 4, shape, seed: 11);
        for (int i = 0; i < inputs.Count; i++)
        {
            var tensor = (DenseTensor<long>)inputs[i].AsTensor<long>();
            var proto = TensorData.FromInt64(inputs[i].Name, tensor.Dimensions.ToArray().Select(d => (long)d), tensor.Buffer.ToArray());
            File.WriteAllBytes(Path.Combine(set, $"input_{i}.pb"), proto.ToByteArray());
        }
        Console.WriteLine($"Wrote {Path.Combine(folder, "bert.onnx")} ({new FileInfo(Path.Combine(folder, "bert.onnx")).Length / 1e6:F1} MB) and test data.");
        return 0;
    }

    /// <summary>Peak working set growth while loading and quantizing a model file, against the file's size.</summary>
    public static int MeasureMemory(string modelPath)
    {
        var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        long baseline = process.WorkingSet64;
        long peak = baseline;
        using var sampler = new Timer(_ => { process.Refresh(); peak = Math.Max(peak, process.WorkingSet64); }, null, 0, 5);
        var stopwatch = Stopwatch.StartNew();
        var result = OnnxQuantizer.Quantize(modelPath);
        var bytes = result.ToBytes();
        stopwatch.Stop();
        process.Refresh();
        peak = Math.Max(peak, Math.Max(process.WorkingSet64, process.PeakWorkingSet64 > baseline ? process.PeakWorkingSet64 : 0));
        long size = new FileInfo(modelPath).Length;
        Console.WriteLine($"model {size / 1e6:F1} MB -> {bytes.Length / 1e6:F1} MB in {stopwatch.Elapsed.TotalMilliseconds:F0} ms (first run, cold JIT)");
        Console.WriteLine($"peak working set growth while quantizing: {(peak - baseline) / 1e6:F1} MB = {(double)(peak - baseline) / size:F2}x the model size");
        return 0;
    }
}
