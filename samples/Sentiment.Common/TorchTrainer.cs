using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sentiment.Common;

/// <summary>
/// Mini-batch training of a binary classifier with TorchSharp: the network maps token ids [batch, sequence] (int64,
/// 0 = padding) to one logit per row; AdamW, binary cross-entropy on the logit.
/// </summary>
public static class TorchTrainer
{
    /// <summary>Sets TorchSharp's intra-op threads (default: the machine's cores) and seeds its generator.</summary>
    public static void Configure(int? threads, int seed)
    {
        torch.set_num_threads(threads ?? Environment.ProcessorCount);
        torch.random.manual_seed(seed);
    }

    /// <summary>Trains <paramref name="network"/> in place on token-id rows and reports each epoch.</summary>
    /// <param name="network">Token ids → logits.</param>
    /// <param name="samples">Token-id rows, all the same length.</param>
    /// <param name="labels">Whether each row is positive.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="progress">Told after each epoch.</param>
    /// <param name="learningRate">AdamW's learning rate.</param>
    /// <param name="extraParameters">Trained too (e.g. learned quantization scales).</param>
    /// <param name="trimPadding">Cut each batch after its last non-padding column (for networks that mask padding, so the result is the same and faster).</param>
    public static List<EpochResult> Train(nn.Module<Tensor, Tensor> network, IReadOnlyList<int[]> samples, IReadOnlyList<bool> labels, int epochs, int batchSize, int seed,
        IProgress<EpochResult>? progress = null, double learningRate = 1e-3, IEnumerable<Parameter>? extraParameters = null, bool trimPadding = false)
    {
        if (samples.Count != labels.Count) throw new ArgumentException("Every sample needs a label.", nameof(labels));
        if (samples.Count == 0) throw new ArgumentException("No training data.", nameof(samples));
        using var optimizer = torch.optim.AdamW(network.parameters().Concat(extraParameters ?? Enumerable.Empty<Parameter>()), learningRate);
        var shuffle = new Random(seed);
        var order = Enumerable.Range(0, samples.Count).ToArray();
        var results = new List<EpochResult>();
        network.train();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            shuffle.Shuffle(order);
            double lossSum = 0;
            long correct = 0;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
                var target = torch.tensor(batch.Select(i => labels[i] ? 1f : 0f).ToArray());
                optimizer.zero_grad();
                var logits = network.forward(Batch(samples, batch, trimPadding));
                var loss = nn.functional.binary_cross_entropy_with_logits(logits, target);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>() * batch.Length;
                correct += (logits >= 0).eq(target >= 0.5f).sum().item<long>();
            }
            var result = new EpochResult(epoch, lossSum / order.Length, (double)correct / order.Length, clock.Elapsed);
            results.Add(result);
            progress?.Report(result);
        }
        network.eval();
        return results;
    }

    /// <summary>Probabilities of a positive review (inference mode: no dropout, no gradients).</summary>
    public static float[] Predict(nn.Module<Tensor, Tensor> network, IReadOnlyList<int[]> samples, int batchSize = 64, bool trimPadding = false)
    {
        network.eval();
        using var noGrad = torch.no_grad();
        var probabilities = new List<float>(samples.Count);
        for (int start = 0; start < samples.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var rows = Enumerable.Range(start, Math.Min(batchSize, samples.Count - start)).ToArray();
            probabilities.AddRange(network.forward(Batch(samples, rows, trimPadding)).sigmoid().data<float>().ToArray());
        }
        return probabilities.ToArray();
    }

    private static Tensor Batch(IReadOnlyList<int[]> samples, int[] rows, bool trimPadding)
    {
        int length = trimPadding ? rows.Max(r => Array.FindLastIndex(samples[r], id => id != 0) + 1) : samples[rows[0]].Length;
        length = Math.Max(length, 1);
        var ids = new long[rows.Length * length];
        for (int r = 0; r < rows.Length; r++)
        {
            var row = samples[rows[r]];
            for (int t = 0; t < length; t++) ids[r * length + t] = row[t];
        }
        return torch.tensor(ids, new long[] { rows.Length, length });
    }
}
