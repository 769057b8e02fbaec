using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;

namespace MLNet.Quantization.Benchmarks;

/// <summary>
/// ML.NET's pretrained ResNet18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1: a CNTK export, opset 8, IR 3,
/// initializers listed as graph inputs), fed as ML.NET feeds it: generated images in pixel range [0, 255] through the
/// package's own ResNetPreprocess.onnx. 100 calibration images, 16 evaluation images from other seeds; static QDQ and
/// QOperator (latency guard on) and dynamic, each judged by <c>mlnet-quantize compare</c> against the float model.
/// </summary>
public static class ResNet18Task
{
    /// <summary>Runs the task in <paramref name="folder"/>.</summary>
    public static int Run(string folder, int calibrationImages)
    {
        var models = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        var resnet = Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx");
        Directory.CreateDirectory(folder);
        using (var preprocess = new InferenceSession(Path.Combine(models, "ResNetPrepOnnx", "ResNetPreprocess.onnx")))
        {
            for (int i = 0; i < calibrationImages; i++) Write(preprocess, Path.Combine(folder, "calibration", $"test_data_set_{i}"), 100 + i);
            for (int i = 0; i < 16; i++) Write(preprocess, Path.Combine(folder, "evaluation", $"test_data_set_{i}"), 9000 + i);
        }
        var runs = new (string Name, string[] Options)[]
        {
            ("static-qdq", new[] { "--mode", "static", "--format", "qdq", "--calibration-data", Path.Combine(folder, "calibration") }),
            ("static-qoperator", new[] { "--mode", "static", "--format", "qoperator", "--calibration-data", Path.Combine(folder, "calibration") }),
            ("dynamic", Array.Empty<string>()),
        };
        foreach (var (name, options) in runs)
        {
            var output = Path.Combine(folder, $"resnet18.{name}.onnx");
            Console.WriteLine($"== ResNet18 {name}");
            int code = CliApp.Run(new[] { "quantize", resnet, "-o", output }.Concat(options).ToArray(), Console.Out, Console.Error);
            if (code != 0) continue;
            CliApp.Run(new[] { "compare", resnet, output, "--data", Path.Combine(folder, "evaluation"), "--runs", "20" }, Console.Out, Console.Error);
        }
        return 0;
    }

    private static void Write(InferenceSession preprocess, string set, int seed)
    {
        var image = (DenseTensor<float>)ImageInputs.Create("OriginalInput", 1, 3, 224, 224, seed)[0].Value;
        var pixels = image.Buffer.ToArray().Select(v => Math.Clamp(128f + 70f * v, 0f, 255f)).ToArray();
        using var results = preprocess.Run(new[] { NamedOnnxValue.CreateFromTensor("OriginalInput", new DenseTensor<float>(pixels, new[] { 1, 3, 224, 224 })) });
        var prepared = results[0].AsTensor<float>().ToArray();
        TestDataSets.Write(set, new[] { NamedOnnxValue.CreateFromTensor("Input247", new DenseTensor<float>(prepared, new[] { 1, 3, 224, 224 })) });
    }
}
