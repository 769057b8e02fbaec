using ImdbSentiment.Model;

namespace MLNet.Quantization.Tests.Imdb;

public class TransformerGradientTests
{
    private static readonly TransformerConfig Tiny = new(Vocabulary: 12, Sequence: 5, Embedding: 6, Heads: 2, KeyDimension: 3, Hidden: 4, Dropout: 0f);

    private static double Loss(SentimentTransformer model, int[] ids, float label)
    {
        double p = model.Predict(ids);
        return -(label * Math.Log(p) + (1 - label) * Math.Log(1 - p));
    }

    [Fact]
    public void Backward_matches_finite_differences_for_every_tensor()
    {
        var parameters = TransformerParameters.Initialize(Tiny, seed: 3);
        var random = new Random(4);
        foreach (var tensor in parameters.All) for (int i = 0; i < tensor.Length; i++) tensor[i] += (float)(random.NextDouble() - 0.5) * 0.5f;
        var model = new SentimentTransformer(parameters);
        var ids = new[] { 3, 7, 7, 0, 11 };
        const float label = 1f;

        var workspace = new Workspace(Tiny);
        model.Forward(ids, workspace, dropout: null);
        var gradients = new TransformerParameters(Tiny);
        model.Backward(workspace, label, 1f, gradients.All);

        var names = new[] { "Embedding", "Position", "Gamma", "Beta", "Query", "QueryBias", "Key", "KeyBias", "Value", "ValueBias", "Output", "OutputBias", "Dense", "DenseBias", "Classifier", "ClassifierBias" };
        for (int k = 0; k < parameters.All.Count; k++)
        {
            var tensor = parameters.All[k];
            var analytic = gradients.All[k];
            for (int i = 0; i < tensor.Length; i += Math.Max(1, tensor.Length / 12))
            {
                float saved = tensor[i];
                const float step = 1e-2f;
                tensor[i] = saved + step;
                double plus = Loss(model, ids, label);
                tensor[i] = saved - step;
                double minus = Loss(model, ids, label);
                tensor[i] = saved;
                double numeric = (plus - minus) / (2 * step);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + 3e-2 * Math.Abs(numeric), $"{names[k]}[{i}]: analytic {analytic[i]:G5}, numeric {numeric:G5}");
            }
        }
    }
}
