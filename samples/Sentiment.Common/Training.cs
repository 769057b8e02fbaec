using System.Diagnostics;
using System.Numerics.Tensors;

namespace Sentiment.Common;

/// <summary>A binary classifier with hand-written forward and backward passes, trainable by <see cref="MiniBatchTrainer"/>.</summary>
/// <typeparam name="TSample">One input.</typeparam>
/// <typeparam name="TWorkspace">Activations of one forward pass, kept for the backward pass (one per thread).</typeparam>
public interface IDifferentiableClassifier<in TSample, TWorkspace>
{
    /// <summary>Every weight tensor, in a fixed order.</summary>
    IReadOnlyList<float[]> Weights { get; }

    /// <summary>A new workspace.</summary>
    TWorkspace CreateWorkspace();

    /// <summary>Probability of the positive class; <paramref name="dropout"/> null means inference.</summary>
    float Forward(TSample sample, TWorkspace workspace, Random? dropout);

    /// <summary>Adds <paramref name="weight"/> × the binary cross-entropy gradient to <paramref name="gradients"/> (shaped like <see cref="Weights"/>).</summary>
    void Backward(TWorkspace workspace, float label, float weight, IReadOnlyList<float[]> gradients);
}

/// <summary>One epoch's figures.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">Mean binary cross-entropy over the epoch.</param>
/// <param name="Accuracy">Training accuracy over the epoch (dropout on).</param>
/// <param name="Elapsed">Time the epoch took.</param>
public sealed record EpochResult(int Epoch, double Loss, double Accuracy, TimeSpan Elapsed);

/// <summary>Adam (β1 0.9, β2 0.999, ε 1e-7, as Keras) over a list of tensors.</summary>
public sealed class AdamOptimizer
{
    private readonly IReadOnlyList<float[]> _weights;
    private readonly float[][] _first;
    private readonly float[][] _second;
    private readonly float _learningRate;
    private int _step;

    /// <summary>Creates an optimizer for <paramref name="weights"/>.</summary>
    public AdamOptimizer(IReadOnlyList<float[]> weights, float learningRate = 1e-3f)
    {
        _weights = weights;
        _first = weights.Select(w => new float[w.Length]).ToArray();
        _second = weights.Select(w => new float[w.Length]).ToArray();
        _learningRate = learningRate;
    }

    /// <summary>Applies one update from <paramref name="gradients"/>.</summary>
    public void Step(IReadOnlyList<float[]> gradients)
    {
        _step++;
        const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-7f;
        float stepSize = _learningRate * MathF.Sqrt(1f - MathF.Pow(beta2, _step)) / (1f - MathF.Pow(beta1, _step));
        for (int k = 0; k < _weights.Count; k++)
        {
            var (w, g, m, v) = (_weights[k], gradients[k], _first[k], _second[k]);
            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i];
                if (gi == 0f && m[i] == 0f) continue;
                m[i] = beta1 * m[i] + (1 - beta1) * gi;
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + epsilon);
            }
        }
    }
}

/// <summary>Mini-batch training with Adam and binary cross-entropy, each batch split across the CPU's cores.</summary>
public static class MiniBatchTrainer
{
    /// <summary>Trains <paramref name="network"/> in place and reports each epoch.</summary>
    public static List<EpochResult> Train<TSample, TWorkspace>(IDifferentiableClassifier<TSample, TWorkspace> network, IReadOnlyList<TSample> samples, IReadOnlyList<bool> labels,
        int epochs, int batchSize, int seed, IProgress<EpochResult>? progress = null, float learningRate = 1e-3f)
    {
        if (samples.Count != labels.Count) throw new ArgumentException("Every sample needs a label.", nameof(labels));
        if (samples.Count == 0) throw new ArgumentException("No training data.", nameof(samples));
        int workers = Math.Max(1, Math.Min(Environment.ProcessorCount, batchSize));
        var workspaces = Enumerable.Range(0, workers).Select(_ => network.CreateWorkspace()).ToArray();
        var gradients = Enumerable.Range(0, workers).Select(_ => network.Weights.Select(w => new float[w.Length]).ToArray()).ToArray();
        var dropouts = Enumerable.Range(0, workers).Select(i => new Random(seed * 7919 + i)).ToArray();
        var optimizer = new AdamOptimizer(network.Weights, learningRate);
        var shuffle = new Random(seed);
        var order = Enumerable.Range(0, samples.Count).ToArray();
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
                    foreach (var g in gradients[worker]) Array.Clear(g);
                    for (int i = worker; i < count; i += workers)
                    {
                        int index = order[start + i];
                        float probability = network.Forward(samples[index], workspaces[worker], dropouts[worker]);
                        float label = labels[index] ? 1f : 0f;
                        losses[worker] -= label * Math.Log(Math.Max(probability, 1e-7)) + (1 - label) * Math.Log(Math.Max(1 - probability, 1e-7));
                        if (probability >= 0.5f == labels[index]) hits[worker]++;
                        network.Backward(workspaces[worker], label, 1f / count, gradients[worker]);
                    }
                });
                for (int worker = 1; worker < workers; worker++)
                    for (int k = 0; k < gradients[0].Length; k++) TensorPrimitives.Add(gradients[0][k], gradients[worker][k], gradients[0][k]);
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
