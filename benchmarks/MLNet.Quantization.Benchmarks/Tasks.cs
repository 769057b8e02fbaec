using MLNet.Quantization.ModelZoo;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Benchmarks;

/// <summary>Non-BenchmarkDotNet tasks: writing the benchmark model and measuring quantization memory.</summary>
public static class Tasks
{
    /// <summary>
    /// Writes into <paramref name="folder"/>: bert.onnx with bert-data (one set, batch 4 × 128) and bert-calibration
    /// (300 sets of one sequence); cnn.onnx with cnn-data (batch 8 × 3 × 32 × 32) and cnn-calibration (200 images);
    /// cnn-opset9.onnx and cnn-opset11.onnx, exported the old way (Constant-node weights, Clip(0, 6), decomposed norm).
    /// </summary>
    public static int Generate(string folder)
    {
        Directory.CreateDirectory(folder);
        var shape = new BertShape();
        OnnxModelFile.Save(BertModelBuilder.Build(shape), Path.Combine(folder, "bert.onnx"));
        TestDataSets.Write(Path.Combine(folder, "bert-data", "test_data_set_0"), BertInputs.Create(batch: 4, shape, seed: 11));
        for (int i = 0; i < 300; i++) TestDataSets.Write(Path.Combine(folder, "bert-calibration", $"test_data_set_{i}"), BertInputs.Create(batch: 1, shape, seed: 1000 + i));

        OnnxModelFile.Save(CnnModelBuilder.Build(CnnShape.Default), Path.Combine(folder, "cnn.onnx"));
        foreach (var opset in new[] { 9L, 11L })
        {
            var legacy = CnnShape.Default with { Opset = opset, WeightsInConstantNodes = true, Relu6 = true, DecomposedNorm = true };
            OnnxModelFile.Save(CnnModelBuilder.Build(legacy), Path.Combine(folder, $"cnn-opset{opset}.onnx"));
        }
        for (int i = 0; i < 4; i++) TestDataSets.Write(Path.Combine(folder, "cnn-data", $"test_data_set_{i}"), CnnInputs.Create(batch: 8, seed: 20 + i));
        for (int i = 0; i < 200; i++) TestDataSets.Write(Path.Combine(folder, "cnn-calibration", $"test_data_set_{i}"), CnnInputs.Create(batch: 1, seed: 5000 + i));
        Console.WriteLine($"Wrote bert.onnx, cnn.onnx and their test and calibration data under {Path.GetFullPath(folder)}.");
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
