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

        for (int t = 0; t < l; t++)
        {
            var normalized = w.Normalized.AsSpan(t * d, d);
            TensorPrimitives.Add(p.Embedding.AsSpan(ids[t] * d, d), p.Position.AsSpan(t * d, d), normalized);
            float mean = TensorPrimitives.Sum(normalized) / d;
            TensorPrimitives.Subtract(normalized, mean, normalized);
            float variance = TensorPrimitives.Dot(normalized, normalized) / d;
            float inverse = 1f / MathF.Sqrt(variance + TransformerConfig.Epsilon);
            w.InverseStd[t] = inverse;
            TensorPrimitives.Multiply(normalized, inverse, normalized);
            var hidden = w.Hidden.AsSpan(t * d, d);
            TensorPrimitives.Multiply(normalized, p.Gamma, hidden);
            TensorPrimitives.Add(hidden, p.Beta, hidden);
        }

        Project(w.Hidden, p.Query, p.QueryBias, w.Query);
        Project(w.Hidden, p.Key, p.KeyBias, w.Key);
        Project(w.Hidden, p.Value, p.ValueBias, w.Value);
        float scale = 1f / MathF.Sqrt(dk);
        for (int j = 0; j < c.Heads; j++)
        {
            SplitHead(w.Query, w.HeadQuery[j], j);
            SplitHead(w.Key, w.HeadKey[j], j);
            SplitHead(w.Value, w.HeadValue[j], j);
            var scores = w.Attention[j];
            MatrixOps.MultiplyTransposedB(w.HeadQuery[j], w.HeadKey[j], scores, l, dk, l);
            for (int t = 0; t < l; t++)
            {
                var row = scores.AsSpan(t * l, l);
                TensorPrimitives.Multiply(row, scale, row);
                TensorPrimitives.SoftMax(row, row);
            }
            MatrixOps.Multiply(scores, w.HeadValue[j], w.HeadOutput, l, l, dk);
            for (int t = 0; t < l; t++) w.HeadOutput.AsSpan(t * dk, dk).CopyTo(w.Context.AsSpan(t * pw + j * dk, dk));
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
        for (int j = 0; j < c.Heads; j++)
        {
            var cHead = dContextRow.Slice(j * dk, dk);
            var attention = w.Attention[j];
            var value = w.HeadValue[j];
            for (int s = 0; s < l; s++) e[s] = TensorPrimitives.Dot(cHead, value.AsSpan(s * dk, dk));
            for (int s = 0; s < l; s++)
            {
                float columnSum = 0;
                for (int t = 0; t < l; t++) columnSum += attention[t * l + s];
                TensorPrimitives.Multiply(cHead, columnSum, w.HeadGradient.AsSpan(s * dk, dk));
            }
            MergeHead(w.HeadGradient, w.ValueGradient, j);
            for (int t = 0; t < l; t++)
            {
                var a = attention.AsSpan(t * l, l);
                float r = TensorPrimitives.Dot(a, e);
                var ds = w.ScoreGradient.AsSpan(t * l, l);
                TensorPrimitives.Subtract(e, r, ds);
                TensorPrimitives.Multiply(ds, a, ds);
                TensorPrimitives.Multiply(ds, scale, ds);
            }
            MatrixOps.Multiply(w.ScoreGradient, w.HeadKey[j], w.HeadGradient, l, l, dk);
            MergeHead(w.HeadGradient, w.QueryGradient, j);
            Array.Clear(w.HeadGradient);
            MatrixOps.MultiplyTransposedA(w.ScoreGradient, w.HeadQuery[j], w.HeadGradient, l, l, dk);
            MergeHead(w.HeadGradient, w.KeyGradient, j);
        }

        ProjectBackward(w.Hidden, w.QueryGradient, p.Query, g.Query, g.QueryBias, w.HiddenGradient, accumulate: false);
        ProjectBackward(w.Hidden, w.KeyGradient, p.Key, g.Key, g.KeyBias, w.HiddenGradient, accumulate: true);
        ProjectBackward(w.Hidden, w.ValueGradient, p.Value, g.Value, g.ValueBias, w.HiddenGradient, accumulate: true);

        Span<float> dNormalized = stackalloc float[d];
        for (int t = 0; t < l; t++)
        {
            var dh = w.HiddenGradient.AsSpan(t * d, d);
            var normalized = w.Normalized.AsSpan(t * d, d);
            TensorPrimitives.Add(g.Beta, dh, g.Beta);
            TensorPrimitives.MultiplyAdd(dh, normalized, g.Gamma, g.Gamma);
            TensorPrimitives.Multiply(dh, p.Gamma, dNormalized);
            float meanGradient = TensorPrimitives.Sum(dNormalized) / d;
            float meanProduct = TensorPrimitives.Dot(dNormalized, normalized) / d;
            var row = g.Embedding.AsSpan(w.Ids[t] * d, d);
            var position = g.Position.AsSpan(t * d, d);
            for (int i = 0; i < d; i++)
            {
                float dx = w.InverseStd[t] * (dNormalized[i] - meanGradient - normalized[i] * meanProduct);
                row[i] += dx;
                position[i] += dx;
            }
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

    private void SplitHead(float[] all, float[] head, int j)
    {
        int dk = Config.KeyDimension, pw = Config.Projection;
        for (int t = 0; t < Config.Sequence; t++) all.AsSpan(t * pw + j * dk, dk).CopyTo(head.AsSpan(t * dk, dk));
    }

    private void MergeHead(float[] head, float[] all, int j)
    {
        int dk = Config.KeyDimension, pw = Config.Projection;
        for (int t = 0; t < Config.Sequence; t++) head.AsSpan(t * dk, dk).CopyTo(all.AsSpan(t * pw + j * dk, dk));
    }
}
