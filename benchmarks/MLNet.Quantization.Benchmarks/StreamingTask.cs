using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Benchmarks;

/// <summary>
/// Models larger than memory: a Llama-7B-shaped decoder cut to a few layers (hidden 4096, intermediate 11008,
/// vocabulary 32000, token embedding, per layer RMSNorm, q/k/v/o projections with single-head causal-free attention,
/// RMSNorm and a SwiGLU MLP, then a final norm and an untied lm_head; seeded random N(0, 0.02) weights) written straight
/// to external data one tensor at a time, over 4 GB with the default 4 layers. Each quantization runs in its own
/// <c>mlnet-quantize</c> process whose peak working set (the kernel's high-water mark, VmHWM) is sampled while it
/// runs; then the float and the quantized model each run once in ONNX Runtime on 8 tokens and their logits are compared.
/// The float-compute INT4 model is also dequantized (streamed the same way) and must give the INT4 model's logits.
/// GPTQ calibrates on <see cref="CalibrationSamples"/> sequences of random token ids written as a test-data folder,
/// so its peak shows what layer-by-layer observation holds: one layer's weights, one Hessian (K = 11008 for the down
/// projections) and the calibration activations.
/// </summary>
public static class StreamingTask
{
    private const int Hidden = 4096, Intermediate = 11008, Vocabulary = 32000, Tokens = 8, CalibrationSamples = 16, CalibrationTokens = 32;

    /// <summary>Runs the task in <paramref name="folder"/> with a decoder of <paramref name="layers"/> layers.</summary>
    /// <param name="folder">Where the models go (needs about 2.5× the float model's size in free disk).</param>
    /// <param name="layers">Decoder layers (each 0.81 GB float).</param>
    /// <param name="only">Comma-separated run names to do (all when null).</param>
    public static int Run(string folder, int layers, string? only = null)
    {
        Directory.CreateDirectory(folder);
        var floatPath = Path.Combine(folder, "decoder.onnx");
        var watch = Stopwatch.StartNew();
        long floatBytes = Write(floatPath, layers);
        Console.WriteLine($"Float model: {layers} layers + embeddings, {floatBytes / 1e9:F2} GB of weights in external data, written in {watch.Elapsed.TotalSeconds:F0} s.");
        var inputIds = new long[Tokens];
        var random = new Random(7);
        for (int i = 0; i < Tokens; i++) inputIds[i] = random.Next(Vocabulary);
        var floatLogits = Logits(floatPath, inputIds);
        var runs = new (string Name, string[] Options)[]
        {
            ("int4-rtn-b32", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32" }),
            ("int4-rtn-b32-fp32compute", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32", "--accuracy-level", "0" }),
            ("dynamic-int8", Array.Empty<string>()),
            ("int4-gptq-b32", new[] { "--mode", "weight-only", "--bits", "4", "--block-size", "32", "--algorithm", "gptq", "--calibration-data", WriteCalibration(Path.Combine(folder, "calibration")) }),
        };
        var cli = Path.Combine(AppContext.BaseDirectory, "mlnet-quantize.dll");
        foreach (var (name, options) in runs.Where(r => only is null || only.Split(',').Contains(r.Name)))
        {
            var output = Path.Combine(folder, $"decoder.{name}.onnx");
            Console.WriteLine($"== {name}");
            var (code, seconds, peak) = RunMeasured(cli, new[] { "quantize", floatPath, "-o", output, "--external-data" }.Concat(options));
            Console.WriteLine($"quantize: exit {code}, {seconds:F1} s, peak working set {peak / 1e9:F2} GB ({peak / (double)floatBytes:P0} of the float model)");
            if (code != 0) continue;
            long size = new FileInfo(output).Length + (File.Exists(output + ".data") ? new FileInfo(output + ".data").Length : 0);
            var logits = Logits(output, inputIds);
            var (cosine, relative, top1) = Agreement(floatLogits, logits);
            Console.WriteLine($"size {size / 1e9:F2} GB ({(double)floatBytes / size:F2}x smaller); logits vs float: cosine {cosine:F5}, relative RMS error {relative:F4}, top-1 agreement {top1}/{Tokens}");
            if (name != "int4-rtn-b32-fp32compute") continue;
            var restored = Path.Combine(folder, $"decoder.{name}.dequantized.onnx");
            (code, seconds, peak) = RunMeasured(cli, new[] { "dequantize", output, "-o", restored, "--external-data" });
            Console.WriteLine($"dequantize: exit {code}, {seconds:F1} s, peak working set {peak / 1e9:F2} GB");
            if (code != 0) continue;
            var restoredLogits = Logits(restored, inputIds);
            double largest = logits.Max(v => Math.Abs(v)), difference = 0;
            for (int i = 0; i < logits.Length; i++) difference = Math.Max(difference, Math.Abs(logits[i] - restoredLogits[i]));
            Console.WriteLine($"dequantized vs the INT4 model: max difference {difference / largest:E2} of the logits' range");
            File.Delete(restored);
            File.Delete(restored + ".data");
        }
        return 0;
    }

    /// <summary>Random token id sequences (another seed than the evaluation tokens) in the ONNX test-data layout.</summary>
    private static string WriteCalibration(string folder)
    {
        var random = new Random(11);
        for (int sample = 0; sample < CalibrationSamples; sample++)
        {
            var ids = new long[CalibrationTokens];
            for (int i = 0; i < ids.Length; i++) ids[i] = random.Next(Vocabulary);
            ModelZoo.TestDataSets.Write(Path.Combine(folder, $"test_data_set_{sample}"), new[] { NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, new[] { 1, CalibrationTokens })) });
        }
        return folder;
    }

    /// <summary>Runs the CLI in a child process, sampling its VmHWM every 20 ms.</summary>
    private static (int Code, double Seconds, long PeakBytes) RunMeasured(string cli, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(cli);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine("  " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine("  " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        long peak = 0;
        while (!process.WaitForExit(20)) peak = Math.Max(peak, HighWaterMark(process.Id));
        return (process.ExitCode, watch.Elapsed.TotalSeconds, peak);
    }

    private static long HighWaterMark(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
        }
        return 0;
    }

    private static float[] Logits(string path, long[] inputIds)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(path, options);
        var ids = new DenseTensor<long>(inputIds, new[] { 1, inputIds.Length });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input_ids", ids) });
        return results.First().AsTensor<float>().ToArray();
    }

    private static (double Cosine, double Relative, int Top1) Agreement(float[] expected, float[] actual)
    {
        double dot = 0, ee = 0, aa = 0, diff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            dot += (double)expected[i] * actual[i];
            ee += (double)expected[i] * expected[i];
            aa += (double)actual[i] * actual[i];
            diff += ((double)expected[i] - actual[i]) * ((double)expected[i] - actual[i]);
        }
        int top1 = 0;
        for (int t = 0; t < Tokens; t++)
        {
            var e = expected.AsSpan(t * Vocabulary, Vocabulary);
            var a = actual.AsSpan(t * Vocabulary, Vocabulary);
            if (e.IndexOf(Max(e)) == a.IndexOf(Max(a))) top1++;
        }
        return (dot / Math.Sqrt(ee * aa), Math.Sqrt(diff / ee), top1);
    }

    private static float Max(ReadOnlySpan<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (var v in values) max = Math.Max(max, v);
        return max;
    }

    /// <summary>Writes the model and its data file tensor by tensor; returns the bytes of weights written.</summary>
    private static long Write(string path, int layers)
    {
        var dataName = Path.GetFileName(path) + ".data";
        using var data = new FileStream(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataName), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var writer = new ExternalDataWriter(data, dataName);
        var b = new GraphBuilder("decoder", 17);
        int seed = 1;
        string Weight(string name, long rows, long columns)
        {
            var values = Gaussian(checked((int)(rows * columns)), seed++, 0.02f);
            var reference = writer.Append(new TensorProto { Name = name, DataType = (int)DataType.Float, Dims = { rows, columns } }, MemoryMarshal.AsBytes(values.AsSpan()));
            return b.Initializer(reference);
        }
        var ids = b.Input("input_ids", DataType.Int64, 1L, "tokens");
        var x = b.Node("Gather", new[] { Weight("model.embed_tokens.weight", Vocabulary, Hidden), ids });
        var epsilon = b.Initializer("rms_epsilon", new long[] { 1 }, new[] { 1e-6f });
        var scale = b.Initializer("attention_scale", new long[] { 1 }, new[] { 1f / MathF.Sqrt(Hidden) });
        for (int layer = 0; layer < layers; layer++)
        {
            var p = $"model.layers.{layer}";
            var normed = RmsNorm(b, x, epsilon);
            var q = b.Node("MatMul", new[] { normed, Weight($"{p}.self_attn.q_proj.weight", Hidden, Hidden) });
            var k = b.Node("MatMul", new[] { normed, Weight($"{p}.self_attn.k_proj.weight", Hidden, Hidden) });
            var v = b.Node("MatMul", new[] { normed, Weight($"{p}.self_attn.v_proj.weight", Hidden, Hidden) });
            var scores = b.Node("Mul", new[] { b.Node("MatMul", new[] { q, b.Node("Transpose", new[] { k }, null, OnnxAttribute.Ints("perm", 0, 2, 1)) }), scale });
            var attention = b.Node("MatMul", new[] { b.Node("Softmax", new[] { scores }, null, OnnxAttribute.Int("axis", -1)), v });
            x = b.Node("Add", new[] { x, b.Node("MatMul", new[] { attention, Weight($"{p}.self_attn.o_proj.weight", Hidden, Hidden) }) });
            normed = RmsNorm(b, x, epsilon);
            var gate = b.Node("MatMul", new[] { normed, Weight($"{p}.mlp.gate_proj.weight", Hidden, Intermediate) });
            var up = b.Node("MatMul", new[] { normed, Weight($"{p}.mlp.up_proj.weight", Hidden, Intermediate) });
            var silu = b.Node("Mul", new[] { gate, b.Node("Sigmoid", new[] { gate }) });
            x = b.Node("Add", new[] { x, b.Node("MatMul", new[] { b.Node("Mul", new[] { silu, up }), Weight($"{p}.mlp.down_proj.weight", Intermediate, Hidden) }) });
        }
        b.Node("MatMul", new[] { RmsNorm(b, x, epsilon), Weight("lm_head.weight", Hidden, Vocabulary) }, "logits");
        b.Output("logits", DataType.Float, 1L, "tokens", (long)Vocabulary);
        var model = b.Build();
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            model.Proto.WriteTo(file);
        return writer.Length;
    }

    private static string RmsNorm(GraphBuilder b, string x, string epsilon)
    {
        var meanSquare = b.Node("ReduceMean", new[] { b.Node("Mul", new[] { x, x }) }, null, OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1));
        return b.Node("Div", new[] { x, b.Node("Sqrt", new[] { b.Node("Add", new[] { meanSquare, epsilon }) }) });
    }

    /// <summary>Seeded N(0, std²) values (Box–Muller), generated in parallel chunks.</summary>
    private static float[] Gaussian(int count, int seed, float std)
    {
        var values = new float[count];
        const int chunk = 1 << 20;
        Parallel.For(0, (count + chunk - 1) / chunk, c =>
        {
            var random = new Random(seed * 100_003 + c);
            int end = Math.Min(count, (c + 1) * chunk);
            for (int i = c * chunk; i < end; i += 2)
            {
                double radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * std, angle = 2 * Math.PI * random.NextDouble();
                values[i] = (float)(radius * Math.Cos(angle));
                if (i + 1 < end) values[i + 1] = (float)(radius * Math.Sin(angle));
            }
        });
        return values;
    }
}
