using System.Numerics.Tensors;

namespace Sentiment.Common;

/// <summary>Layer normalization of one row and its gradient, for the samples' hand-written networks.</summary>
public static class LayerNormOps
{
    /// <summary>
    /// normalized = (x − mean) / √(var + ε), output = γ·normalized + β. Keeps <paramref name="normalized"/> and
    /// returns 1/√(var + ε) for the backward pass.
    /// </summary>
    public static float Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon, Span<float> normalized, Span<float> output)
    {
        int n = x.Length;
        float mean = TensorPrimitives.Sum(x) / n;
        TensorPrimitives.Subtract(x, mean, normalized);
        float inverse = 1f / MathF.Sqrt(TensorPrimitives.Dot(normalized, normalized) / n + epsilon);
        TensorPrimitives.Multiply(normalized, inverse, normalized);
        TensorPrimitives.Multiply(normalized, gamma, output);
        TensorPrimitives.Add(output, beta, output);
        return inverse;
    }

    /// <summary>Adds γ and β gradients and writes (or adds, with <paramref name="accumulate"/>) the input gradient.</summary>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> normalized, float inverse, ReadOnlySpan<float> gamma, Span<float> gammaGradient, Span<float> betaGradient, Span<float> inputGradient, bool accumulate)
    {
        int n = normalized.Length;
        TensorPrimitives.Add(betaGradient, outputGradient, betaGradient);
        TensorPrimitives.MultiplyAdd(outputGradient, normalized, gammaGradient, gammaGradient);
        Span<float> scaled = n <= 1024 ? stackalloc float[n] : new float[n];
        TensorPrimitives.Multiply(outputGradient, gamma, scaled);
        float meanGradient = TensorPrimitives.Sum(scaled) / n;
        float meanProduct = TensorPrimitives.Dot(scaled, normalized) / n;
        for (int i = 0; i < n; i++)
        {
            float value = inverse * (scaled[i] - meanGradient - normalized[i] * meanProduct);
            inputGradient[i] = accumulate ? inputGradient[i] + value : value;
        }
    }
}
