using Sentiment.Common;
using System.Numerics.Tensors;

namespace ImdbSentiment.Model;

/// <summary>
/// The lab's network with hand-written forward and backward passes:
/// token + position embedding (as the classic Keras lab's TokenAndPositionEmbedding) → LayerNorm → multi-head self-attention (Q/K/V/output projections) → mean over the sequence →
/// Dense + ReLU → Dropout → Dense + sigmoid. Probability of a positive review.
/// </summary>
public sealed class SentimentTransformer : IDifferentiableClassifier<int[], Workspace>
{
    /// <summary>Wraps <paramref name="parameters"/>.</summary>
    public SentimentTransformer(TransformerParameters parameters) => Parameters = parameters;

    /// <summary>The weights.</summary>
    public TransformerParameters Parameters { get; }

    private TransformerConfig Config => Parameters.Config;

    /// <summary>Probability that the review with token <paramref name="ids"/> is positive (inference: no dropout).</summary>
    public float Predict(int[] ids) => Forward(ids, new Workspace(Config), dropout: null);

    /// <inheritdoc />
    public IReadOnlyList<float[]> Weights => Parameters.All;

    /// <inheritdoc />
    public Workspace CreateWorkspace() => new(Config);

    /// <summary>Runs the network, keeping activations in <paramref name="w"/>; <paramref name="dropout"/> null means inference.</summary>
    public float Forward(int[] ids, Workspace w, Random? dropout)
    {
        var c = Config;
        var p = Parameters;
        int l = c.Sequence, d = c.Embedding, pw = c.Projection, dk = c.KeyDimension;
        if (ids.Length != l) throw new ArgumentException($"Expected {l} token ids, got {ids.Length}.", nameof(ids));
        w.Ids = ids;

        Span<float> embedded = stackalloc float[d];
        for (int t = 0; t < l; t++)
        {
            TensorPrimitives.Add(p.Embedding.AsSpan(ids[t] * d, d), p.Position.AsSpan(t * d, d), embedded);
            w.InverseStd[t] = LayerNormOps.Forward(embedded, p.Gamma, p.Beta, TransformerConfig.Epsilon, w.Normalized.AsSpan(t * d, d), w.Hidden.AsSpan(t * d, d));
        }

        Project(w.Hidden, p.Query, p.QueryBias, w.Query);
        Project(w.Hidden, p.Key, p.KeyBias, w.Key);
        Project(w.Hidden, p.Value, p.ValueBias, w.Value);
        float scale = 1f / MathF.Sqrt(dk);
        for (int j = 0; j < c.Heads; j++)
        {
            AttentionOps.SplitHead(w.Query, w.HeadQuery[j], j, l, dk, pw);
            AttentionOps.SplitHead(w.Key, w.HeadKey[j], j, l, dk, pw);
            AttentionOps.SplitHead(w.Value, w.HeadValue[j], j, l, dk, pw);
            var scores = w.Attention[j];
            MatrixOps.MultiplyTransposedB(w.HeadQuery[j], w.HeadKey[j], scores, l, dk, l);
            for (int t = 0; t < l; t++)
            {
                var row = scores.AsSpan(t * l, l);
                TensorPrimitives.Multiply(row, scale, row);
                TensorPrimitives.SoftMax(row, row);
            }
            MatrixOps.Multiply(scores, w.HeadValue[j], w.HeadOutput, l, l, dk);
            AttentionOps.MergeHead(w.HeadOutput, w.Context, j, l, dk, pw);
        }
        MatrixOps.Multiply(w.Context, p.Output, w.Attended, l, pw, d);
        MatrixOps.AddBias(w.Attended, p.OutputBias, l);

        Array.Clear(w.Pooled);
        MatrixOps.SumRows(w.Attended, w.Pooled, l);
        TensorPrimitives.Divide(w.Pooled, l, w.Pooled);

        MatrixOps.Multiply(w.Pooled, p.Dense, w.PreActivation, 1, d, c.Hidden);
        TensorPrimitives.Add(w.PreActivation, p.DenseBias, w.PreActivation);
        for (int i = 0; i < c.Hidden; i++)
        {
            w.Mask[i] = dropout is null ? 1f : dropout.NextDouble() < c.Dropout ? 0f : 1f / (1f - c.Dropout);
            w.Activated[i] = MathF.Max(0f, w.PreActivation[i]) * w.Mask[i];
        }
        float logit = TensorPrimitives.Dot(w.Activated, p.Classifier) + p.ClassifierBias[0];
        w.Probability = 1f / (1f + MathF.Exp(-logit));
        return w.Probability;
    }

    /// <summary>
    /// Adds to <paramref name="g"/> the gradient of <paramref name="weight"/> × binary cross-entropy against
    /// <paramref name="label"/>, for the pass held in <paramref name="w"/>.
    /// </summary>
    public void Backward(Workspace w, float label, float weight, IReadOnlyList<float[]> gradients) =>
        Backward(w, label, weight, TransformerParameters.Wrap(Config, gradients));

    private void Backward(Workspace w, float label, float weight, TransformerParameters g)
    {
        var c = Config;
        var p = Parameters;
        int l = c.Sequence, d = c.Embedding, pw = c.Projection, dk = c.KeyDimension, hid = c.Hidden;
        float dLogit = (w.Probability - label) * weight;

        g.ClassifierBias[0] += dLogit;
        TensorPrimitives.MultiplyAdd(w.Activated, dLogit, g.Classifier, g.Classifier);
        Span<float> dPre = stackalloc float[hid];
        for (int i = 0; i < hid; i++) dPre[i] = w.PreActivation[i] > 0 ? dLogit * p.Classifier[i] * w.Mask[i] : 0f;
        TensorPrimitives.Add(g.DenseBias, dPre, g.DenseBias);
        MatrixOps.MultiplyTransposedA(w.Pooled, dPre, g.Dense, 1, d, hid);
        Span<float> dPooled = stackalloc float[d];
        MatrixOps.MultiplyTransposedB(dPre, p.Dense, dPooled, 1, hid, d);

        TensorPrimitives.Add(g.OutputBias, dPooled, g.OutputBias);
        Array.Clear(w.PooledContext);
        MatrixOps.SumRows(w.Context, w.PooledContext, l);
        TensorPrimitives.Divide(w.PooledContext, l, w.PooledContext);
        MatrixOps.MultiplyTransposedA(w.PooledContext, dPooled, g.Output, 1, pw, d);
        Span<float> dContextRow = stackalloc float[pw];
        MatrixOps.MultiplyTransposedB(dPooled, p.Output, dContextRow, 1, d, pw);
        TensorPrimitives.Divide(dContextRow, l, dContextRow);

        float scale = 1f / MathF.Sqrt(dk);
        Span<float> e = stackalloc float[l];
        Span<float> columnSums = stackalloc float[l];
        for (int j = 0; j < c.Heads; j++)
        {
            var cHead = dContextRow.Slice(j * dk, dk);
            var attention = w.Attention[j];
            var value = w.HeadValue[j];
            for (int s = 0; s < l; s++) e[s] = TensorPrimitives.Dot(cHead, value.AsSpan(s * dk, dk));
            columnSums.Clear();
            MatrixOps.SumRows(attention, columnSums, l);
            for (int s = 0; s < l; s++) TensorPrimitives.Multiply(cHead, columnSums[s], w.HeadGradient.AsSpan(s * dk, dk));
            AttentionOps.MergeHead(w.HeadGradient, w.ValueGradient, j, l, dk, pw);
            for (int t = 0; t < l; t++)
            {
                var ds = w.ScoreGradient.AsSpan(t * l, l);
                e.CopyTo(ds);
                AttentionOps.SoftmaxBackward(attention.AsSpan(t * l, l), ds, scale);
            }
            MatrixOps.Multiply(w.ScoreGradient, w.HeadKey[j], w.HeadGradient, l, l, dk);
            AttentionOps.MergeHead(w.HeadGradient, w.QueryGradient, j, l, dk, pw);
            Array.Clear(w.HeadGradient);
            MatrixOps.MultiplyTransposedA(w.ScoreGradient, w.HeadQuery[j], w.HeadGradient, l, l, dk);
            AttentionOps.MergeHead(w.HeadGradient, w.KeyGradient, j, l, dk, pw);
        }

        ProjectBackward(w.Hidden, w.QueryGradient, p.Query, g.Query, g.QueryBias, w.HiddenGradient, accumulate: false);
        ProjectBackward(w.Hidden, w.KeyGradient, p.Key, g.Key, g.KeyBias, w.HiddenGradient, accumulate: true);
        ProjectBackward(w.Hidden, w.ValueGradient, p.Value, g.Value, g.ValueBias, w.HiddenGradient, accumulate: true);

        Span<float> dx = stackalloc float[d];
        for (int t = 0; t < l; t++)
        {
            LayerNormOps.Backward(w.HiddenGradient.AsSpan(t * d, d), w.Normalized.AsSpan(t * d, d), w.InverseStd[t], p.Gamma, g.Gamma, g.Beta, dx, accumulate: false);
            var row = g.Embedding.AsSpan(w.Ids[t] * d, d);
            TensorPrimitives.Add(row, dx, row);
            var position = g.Position.AsSpan(t * d, d);
            TensorPrimitives.Add(position, dx, position);
        }
    }

    private void Project(float[] input, float[] weight, float[] bias, float[] output)
    {
        MatrixOps.Multiply(input, weight, output, Config.Sequence, Config.Embedding, Config.Projection);
        MatrixOps.AddBias(output, bias, Config.Sequence);
    }

    private void ProjectBackward(float[] input, float[] outputGradient, float[] weight, float[] weightGradient, float[] biasGradient, float[] inputGradient, bool accumulate)
    {
        MatrixOps.SumRows(outputGradient, biasGradient, Config.Sequence);
        MatrixOps.MultiplyTransposedA(input, outputGradient, weightGradient, Config.Sequence, Config.Embedding, Config.Projection);
        MatrixOps.MultiplyTransposedB(outputGradient, weight, inputGradient, Config.Sequence, Config.Projection, Config.Embedding, accumulate);
    }
}
