using System.Diagnostics;
using System.Numerics.Tensors;

namespace ImdbSentiment.Model;

/// <summary>One epoch's figures.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">Mean binary cross-entropy over the epoch.</param>
/// <param name="Accuracy">Training accuracy over the epoch (with dropout on).</param>
/// <param name="Elapsed">Time the epoch took.</param>
public sealed record EpochResult(int Epoch, double Loss, double Accuracy, TimeSpan Elapsed);

/// <summary>Mini-batch training with Adam and binary cross-entropy, the batch split across the CPU's cores.</summary>
public static class TransformerTrainer
{
    /// <summary>Trains <paramref name="model"/> in place; reports each epoch.</summary>
    public static List<EpochResult> Train(SentimentTransformer model, IReadOnlyList<int[]> ids, IReadOnlyList<bool> labels, int epochs, int batchSize, int seed, IProgress<EpochResult>? progress = null, float learningRate = 1e-3f)
    {
        if (ids.Count != labels.Count) throw new ArgumentException("Every sequence needs a label.", nameof(labels));
        if (ids.Count == 0) throw new ArgumentException("No training data.", nameof(ids));
        var config = model.Parameters.Config;
        int workers = Math.Max(1, Math.Min(Environment.ProcessorCount, batchSize));
        var workspaces = Enumerable.Range(0, workers).Select(_ => new Workspace(config)).ToArray();
        var gradients = Enumerable.Range(0, workers).Select(_ => new TransformerParameters(config)).ToArray();
        var dropouts = Enumerable.Range(0, workers).Select(i => new Random(seed * 7919 + i)).ToArray();
        var optimizer = new AdamOptimizer(model.Parameters, learningRate);
        var shuffle = new Random(seed);
        var order = Enumerable.Range(0, ids.Count).ToArray();
        var results = new List<EpochResult>();

        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            shuffle.Shuffle(order);
            double lossSum = 0;
            int correct = 0;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                int count = Math.Min(batchSize, order.Length - start);
                var losses = new double[workers];
                var hits = new int[workers];
                Parallel.For(0, workers, worker =>
                {
                    gradients[worker].Clear();
                    for (int i = worker; i < count; i += workers)
                    {
                        int index = order[start + i];
                        float probability = model.Forward(ids[index], workspaces[worker], dropouts[worker]);
                        float label = labels[index] ? 1f : 0f;
                        losses[worker] -= label * Math.Log(Math.Max(probability, 1e-7)) + (1 - label) * Math.Log(Math.Max(1 - probability, 1e-7));
                        if (probability >= 0.5f == labels[index]) hits[worker]++;
                        model.Backward(workspaces[worker], label, 1f / count, gradients[worker]);
                    }
                });
                for (int worker = 1; worker < workers; worker++)
                {
                    var target = gradients[0].All;
                    var source = gradients[worker].All;
                    for (int k = 0; k < target.Count; k++) TensorPrimitives.Add(target[k], source[k], target[k]);
                }
                optimizer.Step(gradients[0]);
                lossSum += losses.Sum();
                correct += hits.Sum();
            }
            var result = new EpochResult(epoch, lossSum / order.Length, (double)correct / order.Length, clock.Elapsed);
            results.Add(result);
            progress?.Report(result);
        }
        return results;
    }
}
