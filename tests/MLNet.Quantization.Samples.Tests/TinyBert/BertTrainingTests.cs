using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;
using TinyBert.Training;

namespace MLNet.Quantization.Tests.TinyBert;

public class BertTrainingTests
{
    private static readonly BertConfig Tiny = new(VocabularySize: 20, HiddenSize: 8, Layers: 2, Heads: 2, IntermediateSize: 12, MaxPositions: 8, TypeVocabularySize: 2, LayerNormEpsilon: 1e-12f);

    private static BertParameters Perturbed(BertConfig config, int seed)
    {
        var parameters = BertParameters.Initialize(config, seed);
        var random = new Random(seed + 1);
        foreach (var tensor in parameters.All) for (int i = 0; i < tensor.Length; i++) tensor[i] += (float)(random.NextDouble() - 0.5) * 0.6f;
        return parameters;
    }

    [Fact]
    public void Backward_matches_finite_differences()
    {
        var parameters = Perturbed(Tiny, 3);
        var network = new BertNetwork(parameters, sequence: 8);
        var sample = new BertSample(new[] { 2, 7, 11, 5, 3, 0, 0, 0 }, 5);
        const float label = 1f;
        double Loss()
        {
            double p = network.Forward(sample, network.CreateWorkspace(), null);
            return -(label * Math.Log(p) + (1 - label) * Math.Log(1 - p));
        }

        var workspace = network.CreateWorkspace();
        network.Forward(sample, workspace, null);
        var gradients = parameters.All.Select(t => new float[t.Length]).ToArray();
        network.Backward(workspace, label, 1f, gradients);

        for (int k = 0; k < parameters.All.Count; k++)
        {
            var tensor = parameters.All[k];
            for (int i = 0; i < tensor.Length; i += Math.Max(1, tensor.Length / 10))
            {
                float saved = tensor[i];
                const float step = 1e-2f;
                tensor[i] = saved + step;
                double plus = Loss();
                tensor[i] = saved - step;
                double minus = Loss();
                tensor[i] = saved;
                double numeric = (plus - minus) / (2 * step);
                Assert.True(Math.Abs(numeric - gradients[k][i]) <= 2e-3 + 4e-2 * Math.Abs(numeric), $"tensor {k}[{i}]: analytic {gradients[k][i]:G5}, numeric {numeric:G5}");
            }
        }
    }

    [Fact]
    public void Exported_encoder_gives_the_pooled_features_the_network_computes()
    {
        var config = Tiny with { VocabularySize = 40, HiddenSize = 16, MaxPositions = 16 };
        var parameters = Perturbed(config, 9);
        var network = new BertNetwork(parameters, sequence: 16);
        var model = BertOnnxBuilder.Build(new BertWeights(config, parameters.EncoderTensors()));
        var sample = new BertSample(new[] { 2, 9, 30, 14, 3 }.Concat(new int[11]).ToArray(), 5);

        using var session = new InferenceSession(OnnxModelFile.ToBytes(model));
        var dims = new[] { 1, 16 };
        using var results = session.Run(new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(sample.Ids.Select(i => (long)i).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Range(0, 16).Select(i => i < 5 ? 1L : 0L).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[16], dims)),
        });
        var pooled = results.Single(r => r.Name == "pooler_output").AsTensor<float>().ToArray();
        Assert.True(Metrics.MaxAbsDiff(network.PooledFeatures(sample), pooled) <= 1e-4, $"max abs diff {Metrics.MaxAbsDiff(network.PooledFeatures(sample), pooled):G3}");
    }
}
