using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Benchmarks;

/// <summary>
/// Weight-only formats on a decoder PyTorch exported (<c>benchmarks/torch-export/export_decoder.py</c>: a Llama-shaped
/// model trained with torch at character level, exported by <c>torch.onnx.export</c>). Each variant is quantized from
/// the file with the library, then judged against ONNX Runtime running the float model on held-out windows the model
/// was neither trained nor calibrated on: perplexity per character, next-character agreement with float, logit cosine,
/// and the latency of one 128-character window (1 thread, median of 7).
/// </summary>
public static class TorchDecoderTask
{
    private static QuantizationOptions WeightOnly(WeightOnlyOptions settings) => new() { Mode = QuantizationMode.WeightOnly, WeightOnly = settings };

    private static readonly (string Name, QuantizationOptions? Options)[] Variants =
    {
        ("float32", null),
        ("float16", new QuantizationOptions { Mode = QuantizationMode.Float16 }),
        ("int8 weight-only b32", WeightOnly(new WeightOnlyOptions { Bits = 8, BlockSize = 32 })),
        ("int4 RTN b32", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32 })),
        ("int4 RTN b128", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 128 })),
        ("int4 HQQ b32", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Hqq })),
        ("int4 GPTQ b32", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Gptq })),
        ("int4 GPTQ b32 act-order", WeightOnly(new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Gptq, GptqActOrder = true })),
        ("nf4 b64", WeightOnly(new WeightOnlyOptions { Format = WeightOnlyFormat.Nf4, BlockSize = 64 })),
        ("fp4 b64", WeightOnly(new WeightOnlyOptions { Format = WeightOnlyFormat.Fp4, BlockSize = 64 })),
        ("dynamic int8", new QuantizationOptions { Mode = QuantizationMode.Dynamic }),
    };

    /// <summary>Runs the task on the folder export_decoder.py wrote.</summary>
    public static int Run(string folder)
    {
        var floatPath = Path.Combine(folder, "decoder.onnx");
        if (!File.Exists(floatPath))
        {
            Console.Error.WriteLine($"{floatPath} is missing: run `python3 benchmarks/torch-export/export_decoder.py {folder}` first (Debian: apt-get install python3-torch python3-onnx).");
            return 1;
        }
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "meta.json")));
        int window = meta.RootElement.GetProperty("window").GetInt32(), vocabulary = meta.RootElement.GetProperty("vocab").GetInt32();
        var calibration = ReadWindows(Path.Combine(folder, "calibration.bin"), window);
        var heldOut = ReadWindows(Path.Combine(folder, "heldout.bin"), window);
        Console.WriteLine($"Decoder exported by torch {meta.RootElement.GetProperty("torch").GetString()}: {meta.RootElement.GetProperty("parameters").GetInt32():N0} parameters, {new FileInfo(floatPath).Length / 1e6:F2} MB; {heldOut.Count} held-out and {calibration.Count} calibration windows of {window}.");
        Console.WriteLine($"Operators: {string.Join(", ", OperatorCounts(floatPath))}");

        var floatLogits = heldOut.Select(w => Logits(floatPath, w)).ToList();
        var torchFirst = meta.RootElement.GetProperty("torch_first_logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var ortFirst = Enumerable.Range(0, 4).SelectMany(t => floatLogits[0].AsSpan(t * vocabulary, 4).ToArray()).ToArray();
        Console.WriteLine($"ONNX Runtime vs torch on the first window: max |Δlogit| {torchFirst.Zip(ortFirst, (a, b) => Math.Abs(a - b)).Max():E2}; torch's held-out perplexity {meta.RootElement.GetProperty("torch_held_out_perplexity").GetDouble():F4}");
        var data = CalibrationData.FromInputs(calibration.Select(w => (IReadOnlyList<NamedOnnxValue>)new[] { Ids(w) }));

        var rows = new List<string>();
        double floatLatency = 0;
        long floatBytes = new FileInfo(floatPath).Length;
        foreach (var (name, options) in Variants)
        {
            var path = options is null ? floatPath : Path.Combine(folder, $"decoder.{new string(name.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray())}.onnx");
            double seconds = 0;
            string detail = "";
            if (options is not null)
            {
                var watch = Stopwatch.StartNew();
                var report = OnnxQuantizer.QuantizeFile(floatPath, path, options, Onnx.ExternalDataMode.Never, null, options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq ? data : null);
                seconds = watch.Elapsed.TotalSeconds;
                var left = report.Nodes.Where(n => !n.Quantized).GroupBy(n => n.Detail).Select(g => $"{g.Count()}× {g.Key}");
                detail = $"{report.Nodes.Count(n => n.Quantized)} of {report.Nodes.Count} nodes; float: {string.Join("; ", left)}";
            }
            var logits = options is null ? floatLogits : heldOut.Select(w => Logits(path, w)).ToList();
            var (perplexity, agreement, cosine) = Judge(heldOut, floatLogits, logits, vocabulary);
            double latency = Latency(path, heldOut[0]);
            if (options is null) floatLatency = latency;
            long bytes = new FileInfo(path).Length;
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {bytes / 1e6:F2} MB | {(double)floatBytes / bytes:F2}× | {perplexity:F4} | {agreement:P2} | {cosine:F5} | {latency:F2} ms ({latency / floatLatency:F2}×) | {seconds:F1} s |"));
            Console.WriteLine(rows[^1] + (detail.Length > 0 ? $"   [{detail}]" : ""));
        }
        Console.WriteLine();
        Console.WriteLine("| model | size | smaller | held-out perplexity | next-char agreement with float | logit cosine | 128-char window, 1 thread | quantize |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    private static List<long[]> ReadWindows(string path, int window)
    {
        var bytes = File.ReadAllBytes(path);
        var ids = new long[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, ids, 0, bytes.Length);
        return Enumerable.Range(0, ids.Length / window).Select(w => ids.AsSpan(w * window, window).ToArray()).ToList();
    }

    private static NamedOnnxValue Ids(long[] window) => NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(window, new[] { 1, window.Length }));

    private static IEnumerable<string> OperatorCounts(string path)
    {
        var model = Onnx.OnnxModelFile.Load(path);
        return model.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
    }

    private static readonly Dictionary<string, InferenceSession> Sessions = new();

    private static InferenceSession Session(string path)
    {
        if (!Sessions.TryGetValue(path, out var session))
        {
            var options = new SessionOptions { IntraOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            Sessions[path] = session = new InferenceSession(path, options);
        }
        return session;
    }

    private static float[] Logits(string path, long[] window)
    {
        using var results = Session(path).Run(new[] { Ids(window) });
        return results.First().AsTensor<float>().ToArray();
    }

    private static double Latency(string path, long[] window)
    {
        var session = Session(path);
        var input = new[] { Ids(window) };
        var times = new List<double>();
        for (int round = 0; round < 8; round++)
        {
            var watch = Stopwatch.StartNew();
            using (session.Run(input)) { }
            if (round > 0) times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Perplexity per character of the next id, share of positions whose argmax is float's, and the logits' cosine.</summary>
    private static (double Perplexity, double Agreement, double Cosine) Judge(List<long[]> windows, List<float[]> reference, List<float[]> logits, int vocabulary)
    {
        double loss = 0, dot = 0, rr = 0, aa = 0;
        int positions = 0, agree = 0;
        for (int w = 0; w < windows.Count; w++)
        {
            for (int t = 0; t < windows[w].Length; t++)
            {
                var row = logits[w].AsSpan(t * vocabulary, vocabulary);
                var expected = reference[w].AsSpan(t * vocabulary, vocabulary);
                for (int v = 0; v < vocabulary; v++) { dot += (double)row[v] * expected[v]; rr += (double)expected[v] * expected[v]; aa += (double)row[v] * row[v]; }
                if (ArgMax(row) == ArgMax(expected)) agree++;
                if (t + 1 == windows[w].Length) continue;
                double max = double.NegativeInfinity, sum = 0;
                foreach (var value in row) max = Math.Max(max, value);
                foreach (var value in row) sum += Math.Exp(value - max);
                loss += Math.Log(sum) + max - row[(int)windows[w][t + 1]];
                positions++;
            }
        }
        return (Math.Exp(loss / positions), agree / (double)windows.Sum(w => w.Length), dot / Math.Sqrt(rr * aa));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
