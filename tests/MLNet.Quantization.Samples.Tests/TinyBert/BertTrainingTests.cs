using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using Sentiment.Common;
using TinyBert.Encoder;
using TinyBert.Training;
using static TorchSharp.torch;

namespace MLNet.Quantization.Tests.TinyBert;

public class BertTrainingTests
{
    private static readonly BertConfig Tiny = new(VocabularySize: 40, HiddenSize: 16, Layers: 2, Heads: 2, IntermediateSize: 24, MaxPositions: 16, TypeVocabularySize: 2, LayerNormEpsilon: 1e-12f);

    [Fact]
    public void The_onnx_export_gives_the_pooled_features_torchsharp_computes_with_padding_masked()
    {
        TorchTrainer.Configure(threads: 1, seed: 9);
        using var network = new BertClassifier(Tiny);
        using (no_grad())
        {
            foreach (var parameter in network.parameters()) parameter.add_(rand_like(parameter) * 0.6 - 0.3);
        }
        var model = BertOnnxBuilder.Build(new BertWeights(Tiny, network.EncoderTensors()));
        var rows = new[] { new[] { 2, 9, 30, 14, 3 }, new[] { 2, 17, 3 }, new[] { 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 3 } };
        const int length = 16;
        var ids = rows.SelectMany(r => r.Concat(new int[length - r.Length])).Select(i => (long)i).ToArray();
        var mask = rows.SelectMany(r => Enumerable.Range(0, length).Select(t => t < r.Length ? 1L : 0L)).ToArray();

        using var session = new InferenceSession(OnnxModelFile.ToBytes(model));
        var dims = new[] { rows.Length, length };
        using var results = session.Run(new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], dims)),
        });
        var onnx = results.Single(r => r.Name == "pooler_output").AsTensor<float>().ToArray();
        network.eval();
        float[] reference;
        using (no_grad()) reference = network.Pooled(tensor(ids, new long[] { rows.Length, length })).data<float>().ToArray();

        Assert.Equal(rows.Length * Tiny.HiddenSize, onnx.Length);
        Assert.True(Metrics.MaxAbsDiff(reference, onnx) <= 1e-4, $"max abs diff {Metrics.MaxAbsDiff(reference, onnx):G3}");
        Assert.True(Metrics.MaxAbsDiff(reference.Take(16).ToArray(), reference.Skip(16).Take(16).ToArray()) > 1e-2, "different texts should pool differently");
    }

    [Fact]
    public void Training_learns_a_rule_that_needs_attention_and_trimming_padding_changes_no_prediction()
    {
        TorchTrainer.Configure(threads: 1, seed: 4);
        var random = new Random(4);
        var samples = new List<int[]>();
        var labels = new List<bool>();
        for (int i = 0; i < 256; i++)
        {
            int count = random.Next(3, 12);
            var row = new int[16];
            row[0] = 2;
            for (int t = 1; t <= count; t++) row[t] = random.Next(6, 40);
            bool positive = random.Next(2) == 0;
            row[random.Next(1, count + 1)] = positive ? 4 : 5;
            row[count + 1] = 3;
            samples.Add(row);
            labels.Add(positive);
        }
        using var network = new BertClassifier(Tiny);
        var epochs = TorchTrainer.Train(network, samples, labels, epochs: 12, batchSize: 32, seed: 4, learningRate: 3e-3, trimPadding: true);

        Assert.True(epochs[^1].Loss < epochs[0].Loss * 0.5, $"loss {epochs[0].Loss:F3} → {epochs[^1].Loss:F3}");
        var trimmed = TorchTrainer.Predict(network, samples, trimPadding: true);
        var padded = TorchTrainer.Predict(network, samples, trimPadding: false);
        double accuracy = trimmed.Zip(labels, (p, l) => p >= 0.5f == l).Count(x => x) / (double)labels.Count;
        Assert.True(accuracy >= 0.95, $"training accuracy {accuracy:P1}");
        Assert.True(Metrics.MaxAbsDiff(trimmed, padded) <= 1e-5, $"max abs diff {Metrics.MaxAbsDiff(trimmed, padded):G3}");
    }
}
