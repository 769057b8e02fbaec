using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TinyLlama.Model;
using TinyLlama.Text;

namespace TinyLlama.Lab;

/// <summary>Runs an exported (float or quantized) decoder in ONNX Runtime: scoring text, and greedy generation with the key/value cache.</summary>
public sealed class OnnxDecoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly LlamaConfig _config;

    /// <summary>Opens the model with <paramref name="threads"/> intra-op threads (1: the figures compare kernels, not threading).</summary>
    public OnnxDecoder(string modelPath, LlamaConfig config, int threads = 1)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _session = new InferenceSession(modelPath, options);
        _config = config;
    }

    /// <summary>An empty cache (past length 0) for every layer.</summary>
    public static DenseTensor<float>[] EmptyCache(LlamaConfig config) =>
        Enumerable.Range(0, config.Layers * 2).Select(_ => new DenseTensor<float>(new[] { 1, config.KeyValueHeads, 0, config.HeadSize })).ToArray();

    /// <summary>The model's inputs for <paramref name="ids"/> after <paramref name="cache"/>.</summary>
    public static List<NamedOnnxValue> Inputs(LlamaConfig config, long[] ids, DenseTensor<float>[] cache)
    {
        var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, new[] { 1, ids.Length })) };
        for (int layer = 0; layer < config.Layers; layer++)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor(LlamaOnnxBuilder.PastName(layer, "key"), cache[2 * layer]));
            inputs.Add(NamedOnnxValue.CreateFromTensor(LlamaOnnxBuilder.PastName(layer, "value"), cache[2 * layer + 1]));
        }
        return inputs;
    }

    /// <summary>Logits [ids.Length, vocabulary] for <paramref name="ids"/> following <paramref name="cache"/>, and the extended cache.</summary>
    public (float[] Logits, DenseTensor<float>[] Cache) Run(long[] ids, DenseTensor<float>[] cache)
    {
        using var results = _session.Run(Inputs(_config, ids, cache));
        var byName = results.ToDictionary(r => r.Name);
        var logits = byName["logits"].AsTensor<float>().ToArray();
        var next = new DenseTensor<float>[cache.Length];
        for (int layer = 0; layer < _config.Layers; layer++)
        {
            next[2 * layer] = byName[LlamaOnnxBuilder.PresentName(layer, "key")].AsTensor<float>().ToDenseTensor();
            next[2 * layer + 1] = byName[LlamaOnnxBuilder.PresentName(layer, "value")].AsTensor<float>().ToDenseTensor();
        }
        return (logits, next);
    }

    /// <summary>Scores the text in windows of <paramref name="window"/> tokens, each from an empty cache.</summary>
    /// <returns>The summed negative log-likelihood (nats), the predictions scored, and the argmax at each of them.</returns>
    public (double NegativeLogLikelihood, int Count, List<int> Argmax) Score(long[] tokens, int window)
    {
        double nll = 0;
        int count = 0;
        var argmax = new List<int>();
        int vocabulary = _config.Vocabulary;
        for (int start = 0; start + window <= tokens.Length; start += window)
        {
            var ids = tokens.AsSpan(start, window).ToArray();
            var (logits, _) = Run(ids, EmptyCache(_config));
            for (int t = 0; t + 1 < window; t++)
            {
                var row = logits.AsSpan(t * vocabulary, vocabulary);
                float max = float.NegativeInfinity;
                int best = 0;
                for (int v = 0; v < vocabulary; v++) if (row[v] > max) (max, best) = (row[v], v);
                double sum = 0;
                for (int v = 0; v < vocabulary; v++) sum += Math.Exp(row[v] - max);
                nll += Math.Log(sum) + max - row[(int)ids[t + 1]];
                count++;
                argmax.Add(best);
            }
        }
        return (nll, count, argmax);
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/>, one token per call with the cache; tokens per second of the decoding steps.</summary>
    public (string Text, double TokensPerSecond) Generate(string prompt, int tokens)
    {
        var (logits, cache) = Run(ByteTokenizer.Encode(prompt), EmptyCache(_config));
        int vocabulary = _config.Vocabulary;
        long next = ArgMax(logits.AsSpan(logits.Length - vocabulary));
        var generated = new List<long>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < tokens; i++)
        {
            generated.Add(next);
            (logits, cache) = Run(new[] { next }, cache);
            next = ArgMax(logits);
        }
        clock.Stop();
        return (prompt + ByteTokenizer.Decode(generated), tokens / clock.Elapsed.TotalSeconds);
    }

    private static long ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int v = 1; v < row.Length; v++) if (row[v] > row[best]) best = v;
        return best;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
