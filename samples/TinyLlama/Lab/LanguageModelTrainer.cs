using System.Diagnostics;
using TinyLlama.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace TinyLlama.Lab;

/// <summary>Next-token training with TorchSharp: random windows of the text, AdamW, linear warm-up then cosine decay.</summary>
public static class LanguageModelTrainer
{
    /// <summary>Trains <paramref name="model"/> in place; returns the mean training loss of the last 10% of steps.</summary>
    public static double Train(LlamaDecoder model, long[] tokens, int steps, int batchSize, int window, double learningRate, int seed, TextWriter log)
    {
        if (tokens.Length <= window + 1) throw new ArgumentException($"The training text has {tokens.Length} tokens; windows of {window + 1} need more.", nameof(tokens));
        var random = new Random(seed);
        using var optimizer = torch.optim.AdamW(model.parameters(), learningRate, weight_decay: 0.01);
        int warmup = Math.Max(1, steps / 20);
        var clock = Stopwatch.StartNew();
        double recent = 0;
        int recentCount = 0;
        model.train();
        for (int step = 1; step <= steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            double rate = step <= warmup ? learningRate * step / warmup : learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, steps - warmup))));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
            var batch = new long[batchSize * (window + 1)];
            for (int row = 0; row < batchSize; row++)
                Array.Copy(tokens, random.Next(tokens.Length - window - 1), batch, row * (window + 1), window + 1);
            var data = torch.tensor(batch, new long[] { batchSize, window + 1 });
            var inputs = data.narrow(1, 0, window);
            var targets = data.narrow(1, 1, window);
            optimizer.zero_grad();
            var logits = model.forward(inputs);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, model.Config.Vocabulary), targets.reshape(-1));
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            optimizer.step();
            double value = loss.item<float>();
            if (step > steps * 9 / 10) { recent += value; recentCount++; }
            if (step % Math.Max(1, steps / 10) == 0 || step == steps)
                log.WriteLine($"  step {step,5}/{steps}: loss {value:F3} (perplexity {Math.Exp(value):F2}), {clock.Elapsed.TotalSeconds:F0} s");
        }
        model.eval();
        return recentCount > 0 ? recent / recentCount : double.NaN;
    }
}
