using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Benchmarks;

/// <summary>
/// The exported-style models (MobileNetV3 block, CRNN, detector head, opset-8 CNTK-style CNN): each written with
/// 100 calibration images and 16 evaluation images from other seeds, quantized statically with the defaults
/// (latency guard on) and with the guard off, then judged by <c>mlnet-quantize compare</c> against the float model.
/// </summary>
public static class ExportedModelsTask
{
    /// <summary>Runs the task in <paramref name="folder"/>.</summary>
    public static int Run(string folder, string format)
    {
        Directory.CreateDirectory(folder);
        foreach (var model in ExportedModel.All)
        {
            var floatPath = Path.Combine(folder, $"{model.Name}.onnx");
            OnnxModelFile.Save(model.Build(), floatPath);
            for (int i = 0; i < 100; i++) TestDataSets.Write(Path.Combine(folder, $"{model.Name}-calibration", $"test_data_set_{i}"), model.Inputs(1, 100 + i));
            for (int i = 0; i < 16; i++) TestDataSets.Write(Path.Combine(folder, $"{model.Name}-evaluation", $"test_data_set_{i}"), model.Inputs(model.Name.StartsWith("cntk") ? 1 : 8, 9000 + i));
            foreach (var guard in new[] { "true", "false" })
            {
                var quantized = Path.Combine(folder, $"{model.Name}.{format}.guard-{guard}.onnx");
                Console.WriteLine($"== {model.Name}, {format}, latency guard {guard}");
                CliApp.Run(new[] { "quantize", floatPath, "-o", quantized, "--mode", "static", "--format", format, "--calibration-data", Path.Combine(folder, $"{model.Name}-calibration"), "--latency-guard", guard },
                    TextWriter.Null, Console.Error);
                CliApp.Run(new[] { "compare", floatPath, quantized, "--data", Path.Combine(folder, $"{model.Name}-evaluation"), "--runs", "50" }, Console.Out, Console.Error);
            }
        }
        return 0;
    }
}
