using System.Numerics.Tensors;

namespace Sentiment.Common;

/// <summary>Per-head views and the softmax gradient shared by the samples' hand-written attention layers.</summary>
public static class AttentionOps
{
    /// <summary>Copies head <paramref name="head"/>'s columns of <paramref name="all"/> ([rows, heads·size]) into <paramref name="destination"/> ([rows, size]).</summary>
    public static void SplitHead(ReadOnlySpan<float> all, Span<float> destination, int head, int rows, int size, int width)
    {
        for (int t = 0; t < rows; t++) all.Slice(t * width + head * size, size).CopyTo(destination.Slice(t * size, size));
    }

    /// <summary>Writes <paramref name="source"/> ([rows, size]) into head <paramref name="head"/>'s columns of <paramref name="all"/>.</summary>
    public static void MergeHead(ReadOnlySpan<float> source, Span<float> all, int head, int rows, int size, int width)
    {
        for (int t = 0; t < rows; t++) source.Slice(t * size, size).CopyTo(all.Slice(t * width + head * size, size));
    }

    /// <summary>
    /// Turns the gradient of softmax outputs <paramref name="probabilities"/> (one row) into the gradient of the
    /// scaled scores in place: dS = scale · p ∘ (dP − p·dP).
    /// </summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> probabilities, Span<float> gradient, float scale)
    {
        float dot = TensorPrimitives.Dot(probabilities, gradient);
        TensorPrimitives.Subtract(gradient, dot, gradient);
        TensorPrimitives.Multiply(gradient, probabilities, gradient);
        TensorPrimitives.Multiply(gradient, scale, gradient);
    }
}
