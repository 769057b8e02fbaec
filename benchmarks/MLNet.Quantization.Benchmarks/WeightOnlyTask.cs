using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Benchmarks;

/// <summary>
/// Weight-only quantization where it is meant to pay: a decoder-shaped stack of RMS-normalized SwiGLU feed-forward
/// blocks with residuals (gate/up/down projections, hidden 2048, intermediate 5632, 8 layers: 277 M weights, 1.1 GB float, seeded random
/// N(0, 0.02) weights) run at batch 1 × 1 token (GPTQ calibrates on 32 samples of 64 tokens), the memory-bound shape of greedy decoding. Quantizes with RTN and
/// HQQ at 4 and 8 bits and with dynamic INT8, times each quantization, and compares each model with float through
/// <c>mlnet-quantize compare</c> (one thread, interleaved, median).
/// </summary>
public static class WeightOnlyTask
{
    private const int Hidden = 2048, Intermediate = 5632;

    /// <summary>Runs the task in <paramref name="folder"/> with <paramref name="layers"/> blocks.</summary>
    /// <param name="folder">Where the models and data go.</param>
    /// <param name="layers">Feed-forward blocks in the float model.</param>
    /// <param name="only">Comma-separated run names to do (all when null).</param>
    public static int Run(string folder, int layers, string? only = null)
    {
        Directory.CreateDirectory(folder);
        var floatPath = Path.Combine(folder, "decoder-ffn.onnx");
        OnnxModelFile.Save(Build(layers), floatPath, ExternalDataMode.Always);
        for (int i = 0; i < 4; i++)
        {
            var x = new DenseTensor<float>(Gaussian(Hidden, 50 + i, 1f), new[] { 1, 1, Hidden });
            TestDataSets.Write(Path.Combine(folder, "data", $"test_data_set_{i}"), new[] { NamedOnnxValue.CreateFromTensor("x", x) });
        }
        for (int i = 0; i < 32; i++)
        {
            var x = new DenseTensor<float>(Gaussian(64 * Hidden, 900 + i, 1f), new[] { 1, 64, Hidden });
            TestDataSets.Write(Path.Combine(folder, "calibration", $"test_data_set_{i}"), new[] { NamedOnnxValue.CreateFromTensor("x", x) });
        }
        Console.WriteLine($"Float model: {layers} SwiGLU blocks, {3L * Hidden * Intermediate * layers / 1e6:F0} M weights, {(new FileInfo(floatPath + ".data").Length + new FileInfo(floatPath).Length) / 1e6:F0} MB.");
        var runs = new (string Name, string[] Options)[]
        {
            ("int4-rtn-b32", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32" }),
            ("int4-rtn-b128", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "128" }),
            ("int4-hqq-b32", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32", "--algorithm", "hqq" }),
            ("int4-rtn-b32-fp32compute", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32", "--accuracy-level", "0" }),
            ("int4-gptq-b32", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32", "--algorithm", "gptq", "--calibration-data", Path.Combine(folder, "calibration") }),
            ("int8-rtn-b32", new[] { "--mode", "weight-only", "--bits", "8", "--block-size", "32" }),
            ("nf4-b64", new[] { "--mode", "weight-only", "--format", "nf4", "--block-size", "64" }),
            ("fp4-b64", new[] { "--mode", "weight-only", "--format", "fp4", "--block-size", "64" }),
            ("int4-rtn-b64", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "64" }),
            ("float16", new[] { "--mode", "float16" }),
            ("bfloat16", new[] { "--mode", "float16", "--half-type", "bfloat16" }),
            ("dynamic-int8", Array.Empty<string>()),
        };
        foreach (var (name, options) in runs.Where(r => only is null || only.Split(',').Contains(r.Name)))
        {
            var output = Path.Combine(folder, $"decoder-ffn.{name}.onnx");
            Console.WriteLine($"== {name}");
            var watch = Stopwatch.StartNew();
            int code = CliApp.Run(new[] { "quantize", floatPath, "-o", output, "--external-data" }.Concat(options).ToArray(), TextWriter.Null, Console.Error);
            Console.WriteLine($"quantize: exit {code}, {watch.Elapsed.TotalSeconds:F1} s (load, quantize, write, verify in ONNX Runtime)");
            if (code != 0) continue;
            CliApp.Run(new[] { "compare", floatPath, output, "--data", Path.Combine(folder, "data"), "--runs", "20" }, Console.Out, Console.Error);
        }
        return 0;
    }

    /// <summary>Seeded N(0, std²) values (Box–Muller).</summary>
    private static float[] Gaussian(int count, int seed, float std)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * std, angle = 2 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < count) values[i + 1] = (float)(radius * Math.Sin(angle));
        }
        return values;
    }

    /// <summary>x / sqrt(mean(x²) + 1e-6), as Llama normalizes each block's input (without the learned gain).</summary>
    private static string RmsNorm(GraphBuilder b, string x, int layer)
    {
        var meanSquare = b.Node("ReduceMean", new[] { b.Node("Mul", new[] { x, x }) }, null, OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1));
        var epsilon = b.Initializer($"layers.{layer}.norm.epsilon", new long[] { 1 }, new[] { 1e-6f });
        return b.Node("Div", new[] { x, b.Node("Sqrt", new[] { b.Node("Add", new[] { meanSquare, epsilon }) }) });
    }

    private static OnnxModel Build(int layers)
    {
        var b = new GraphBuilder("decoder_ffn");
        var x = b.Input("x", DataType.Float, 1L, "tokens", (long)Hidden);
        for (int layer = 0; layer < layers; layer++)
        {
            var normed = RmsNorm(b, x, layer);
            var gate = b.Node("MatMul", new[] { normed, b.Initializer($"layers.{layer}.mlp.gate_proj", new long[] { Hidden, Intermediate }, Gaussian(Hidden * Intermediate, 3 * layer + 1, 0.02f)) });
            var up = b.Node("MatMul", new[] { normed, b.Initializer($"layers.{layer}.mlp.up_proj", new long[] { Hidden, Intermediate }, Gaussian(Hidden * Intermediate, 3 * layer + 2, 0.02f)) });
            var silu = b.Node("Mul", new[] { gate, b.Node("Sigmoid", new[] { gate }) });
            var down = b.Node("MatMul", new[] { b.Node("Mul", new[] { silu, up }), b.Initializer($"layers.{layer}.mlp.down_proj", new long[] { Intermediate, Hidden }, Gaussian(Intermediate * Hidden, 3 * layer + 3, 0.02f)) });
            x = b.Node("Add", new[] { x, down }, layer == layers - 1 ? "y" : null);
        }
        b.Output("y", DataType.Float, 1L, "tokens", (long)Hidden);
        return b.Build();
    }
}
