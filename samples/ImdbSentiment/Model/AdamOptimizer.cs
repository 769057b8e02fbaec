namespace ImdbSentiment.Model;

/// <summary>Adam (β1 0.9, β2 0.999, ε 1e-7, as Keras) over every tensor of the parameters.</summary>
public sealed class AdamOptimizer
{
    private readonly TransformerParameters _parameters;
    private readonly TransformerParameters _first;
    private readonly TransformerParameters _second;
    private readonly float _learningRate;
    private int _step;

    /// <summary>Creates an optimizer for <paramref name="parameters"/>.</summary>
    public AdamOptimizer(TransformerParameters parameters, float learningRate = 1e-3f)
    {
        _parameters = parameters;
        _first = new TransformerParameters(parameters.Config);
        _second = new TransformerParameters(parameters.Config);
        _learningRate = learningRate;
    }

    /// <summary>Applies one update from <paramref name="gradients"/>.</summary>
    public void Step(TransformerParameters gradients)
    {
        _step++;
        const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-7f;
        float correction1 = 1f - MathF.Pow(beta1, _step), correction2 = 1f - MathF.Pow(beta2, _step);
        float stepSize = _learningRate * MathF.Sqrt(correction2) / correction1;
        var weights = _parameters.All;
        var grads = gradients.All;
        var m = _first.All;
        var v = _second.All;
        for (int k = 0; k < weights.Count; k++)
        {
            var (w, g, mk, vk) = (weights[k], grads[k], m[k], v[k]);
            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i];
                if (gi == 0f && mk[i] == 0f) continue;
                mk[i] = beta1 * mk[i] + (1 - beta1) * gi;
                vk[i] = beta2 * vk[i] + (1 - beta2) * gi * gi;
                w[i] -= stepSize * mk[i] / (MathF.Sqrt(vk[i]) + epsilon);
            }
        }
    }
}
