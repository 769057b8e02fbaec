using System.Numerics.Tensors;
using Sentiment.Common;
using TinyBert.Encoder;

namespace TinyBert.Training;

/// <summary>
/// BERT (post-LayerNorm, erf GELU, additive attention mask, tanh pooler) with a one-unit sigmoid classifier on the
/// pooled [CLS] state, with hand-written forward and backward passes — used to train the encoder from scratch when
/// no pretrained checkpoint is at hand. Only the real tokens of a sample are computed: padded positions are masked
/// out as keys and feed nothing above them, so skipping them changes no result.
/// </summary>
public sealed class BertNetwork : IDifferentiableClassifier<BertSample, BertWorkspace>
{
    private readonly int _sequence;

    /// <summary>Wraps <paramref name="parameters"/> for sequences of up to <paramref name="sequence"/> tokens.</summary>
    public BertNetwork(BertParameters parameters, int sequence)
    {
        Parameters = parameters;
        _sequence = sequence;
    }

    /// <summary>The weights.</summary>
    public BertParameters Parameters { get; }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Weights => Parameters.All;

    private BertConfig Config => Parameters.Config;

    /// <inheritdoc />
    public BertWorkspace CreateWorkspace() => new(Config, _sequence);

    /// <summary>The pooled [CLS] features the ML.NET head sees, for a sample.</summary>
    public float[] PooledFeatures(BertSample sample)
    {
        var w = CreateWorkspace();
        Forward(sample, w, null);
        return (float[])w.Pooled.Clone();
    }

    /// <inheritdoc />
    public float Forward(BertSample sample, BertWorkspace w, Random? dropout)
    {
        var c = Config;
        var p = Parameters;
        int n = Math.Clamp(sample.Length, 1, w.Sequence), h = c.HiddenSize;
        w.Length = n;
        w.Ids = sample.Ids;
        var word = p["embeddings.word_embeddings.weight"];
        var position = p["embeddings.position_embeddings.weight"];
        var type = p["embeddings.token_type_embeddings.weight"];
        for (int t = 0; t < n; t++)
        {
            var sum = w.Scratch.AsSpan(0, h);
            TensorPrimitives.Add(word.AsSpan(sample.Ids[t] * h, h), position.AsSpan(t * h, h), sum);
            TensorPrimitives.Add(sum, type.AsSpan(0, h), sum);
            w.Inv0[t] = LayerNormOps.Forward(sum, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], c.LayerNormEpsilon, w.N0.AsSpan(t * h, h), w.X[0].AsSpan(t * h, h));
        }
        for (int l = 0; l < c.Layers; l++) LayerForward(l, w);

        var top = w.X[c.Layers].AsSpan(0, h);
        MatrixOps.MultiplyTransposedB(top, p["pooler.dense.weight"], w.Pooled, 1, h, h);
        TensorPrimitives.Add(w.Pooled, p["pooler.dense.bias"], w.Pooled);
        TensorPrimitives.Tanh(w.Pooled, w.Pooled);
        float logit = TensorPrimitives.Dot(w.Pooled, p["classifier.weight"]) + p["classifier.bias"][0];
        w.Probability = 1f / (1f + MathF.Exp(-logit));
        return w.Probability;
    }

    /// <inheritdoc />
    public void Backward(BertWorkspace w, float label, float weight, IReadOnlyList<float[]> gradients)
    {
        var c = Config;
        var p = Parameters;
        var g = p.Wrap(gradients);
        int n = w.Length, h = c.HiddenSize;
        float dLogit = (w.Probability - label) * weight;
        g["classifier.bias"][0] += dLogit;
        TensorPrimitives.MultiplyAdd(w.Pooled, dLogit, g["classifier.weight"], g["classifier.weight"]);
        Span<float> dPre = stackalloc float[h];
        for (int i = 0; i < h; i++) dPre[i] = dLogit * p["classifier.weight"][i] * (1 - w.Pooled[i] * w.Pooled[i]);
        TensorPrimitives.Add(g["pooler.dense.bias"], dPre, g["pooler.dense.bias"]);
        MatrixOps.MultiplyTransposedA(dPre, w.X[c.Layers].AsSpan(0, h), g["pooler.dense.weight"], 1, h, h);
        Array.Clear(w.Gradient, 0, n * h);
        MatrixOps.Multiply(dPre, p["pooler.dense.weight"], w.Gradient.AsSpan(0, h), 1, h, h);

        for (int l = c.Layers - 1; l >= 0; l--) LayerBackward(l, w, g);

        var word = g["embeddings.word_embeddings.weight"];
        var position = g["embeddings.position_embeddings.weight"];
        var type = g["embeddings.token_type_embeddings.weight"];
        var dx = w.Scratch.AsSpan(0, h);
        for (int t = 0; t < n; t++)
        {
            LayerNormOps.Backward(w.Gradient.AsSpan(t * h, h), w.N0.AsSpan(t * h, h), w.Inv0[t], p["embeddings.LayerNorm.weight"], g["embeddings.LayerNorm.weight"], g["embeddings.LayerNorm.bias"], dx, accumulate: false);
            TensorPrimitives.Add(word.AsSpan(w.Ids[t] * h, h), dx, word.AsSpan(w.Ids[t] * h, h));
            TensorPrimitives.Add(position.AsSpan(t * h, h), dx, position.AsSpan(t * h, h));
            TensorPrimitives.Add(type.AsSpan(0, h), dx, type.AsSpan(0, h));
        }
    }

    private void LayerForward(int l, BertWorkspace w)
    {
        var c = Config;
        var p = Parameters;
        var s = w.Layers[l];
        int n = w.Length, h = c.HiddenSize, dk = c.HeadSize, inter = c.IntermediateSize;
        var x = w.X[l];
        string prefix = $"encoder.layer.{l}";
        Linear(x, $"{prefix}.attention.self.query", s.Q, n, h, h);
        Linear(x, $"{prefix}.attention.self.key", s.K, n, h, h);
        Linear(x, $"{prefix}.attention.self.value", s.V, n, h, h);
        float scale = 1f / MathF.Sqrt(dk);
        for (int j = 0; j < c.Heads; j++)
        {
            AttentionOps.SplitHead(s.Q, s.Qh[j], j, n, dk, h);
            AttentionOps.SplitHead(s.K, s.Kh[j], j, n, dk, h);
            AttentionOps.SplitHead(s.V, s.Vh[j], j, n, dk, h);
            var a = s.A[j];
            MatrixOps.MultiplyTransposedB(s.Qh[j], s.Kh[j], a, n, dk, n);
            for (int t = 0; t < n; t++)
            {
                var row = a.AsSpan(t * n, n);
                TensorPrimitives.Multiply(row, scale, row);
                TensorPrimitives.SoftMax(row, row);
            }
            MatrixOps.Multiply(a, s.Vh[j], w.HeadGradient, n, n, dk);
            AttentionOps.MergeHead(w.HeadGradient, s.C, j, n, dk, h);
        }
        Linear(s.C, $"{prefix}.attention.output.dense", w.Residual, n, h, h);
        for (int t = 0; t < n; t++)
        {
            var row = w.Residual.AsSpan(t * h, h);
            TensorPrimitives.Add(row, x.AsSpan(t * h, h), row);
            s.Inv1[t] = LayerNormOps.Forward(row, p[$"{prefix}.attention.output.LayerNorm.weight"], p[$"{prefix}.attention.output.LayerNorm.bias"], c.LayerNormEpsilon, s.N1.AsSpan(t * h, h), s.X1.AsSpan(t * h, h));
        }
        Linear(s.X1, $"{prefix}.intermediate.dense", s.F1, n, h, inter);
        for (int i = 0; i < n * inter; i++) s.G[i] = Gelu(s.F1[i]);
        Linear(s.G, $"{prefix}.output.dense", w.Residual, n, inter, h);
        for (int t = 0; t < n; t++)
        {
            var row = w.Residual.AsSpan(t * h, h);
            TensorPrimitives.Add(row, s.X1.AsSpan(t * h, h), row);
            s.Inv2[t] = LayerNormOps.Forward(row, p[$"{prefix}.output.LayerNorm.weight"], p[$"{prefix}.output.LayerNorm.bias"], c.LayerNormEpsilon, s.N2.AsSpan(t * h, h), w.X[l + 1].AsSpan(t * h, h));
        }
    }

    /// <summary>Turns w.Gradient (gradient of layer l's output) into the gradient of its input, adding weight gradients to <paramref name="g"/>.</summary>
    private void LayerBackward(int l, BertWorkspace w, BertParameters g)
    {
        var c = Config;
        var p = Parameters;
        var s = w.Layers[l];
        int n = w.Length, h = c.HiddenSize, dk = c.HeadSize, inter = c.IntermediateSize;
        string prefix = $"encoder.layer.{l}";
        var dX1 = w.Residual;
        for (int t = 0; t < n; t++)
            LayerNormOps.Backward(w.Gradient.AsSpan(t * h, h), s.N2.AsSpan(t * h, h), s.Inv2[t], p[$"{prefix}.output.LayerNorm.weight"], g[$"{prefix}.output.LayerNorm.weight"], g[$"{prefix}.output.LayerNorm.bias"], dX1.AsSpan(t * h, h), accumulate: false);
        LinearBackward(s.G, dX1, $"{prefix}.output.dense", g, w.IntermediateGradient, n, inter, h, accumulate: false);
        for (int i = 0; i < n * inter; i++) w.IntermediateGradient[i] *= GeluDerivative(s.F1[i]);
        LinearBackward(s.X1, w.IntermediateGradient, $"{prefix}.intermediate.dense", g, dX1, n, h, inter, accumulate: true);

        var dR1 = w.Gradient;
        for (int t = 0; t < n; t++)
            LayerNormOps.Backward(dX1.AsSpan(t * h, h), s.N1.AsSpan(t * h, h), s.Inv1[t], p[$"{prefix}.attention.output.LayerNorm.weight"], g[$"{prefix}.attention.output.LayerNorm.weight"], g[$"{prefix}.attention.output.LayerNorm.bias"], dR1.AsSpan(t * h, h), accumulate: false);
        Array.Copy(dR1, w.InputGradient, n * h);
        LinearBackward(s.C, dR1, $"{prefix}.attention.output.dense", g, w.ContextGradient, n, h, h, accumulate: false);

        float scale = 1f / MathF.Sqrt(dk);
        for (int j = 0; j < c.Heads; j++)
        {
            var a = s.A[j];
            AttentionOps.SplitHead(w.ContextGradient, w.HeadGradient, j, n, dk, h);
            MatrixOps.MultiplyTransposedB(w.HeadGradient, s.Vh[j], w.AttentionGradient, n, dk, n);
            Array.Clear(w.HeadGradient2, 0, n * dk);
            MatrixOps.MultiplyTransposedA(a, w.HeadGradient, w.HeadGradient2, n, n, dk);
            AttentionOps.MergeHead(w.HeadGradient2, w.VGradient, j, n, dk, h);
            for (int t = 0; t < n; t++) AttentionOps.SoftmaxBackward(a.AsSpan(t * n, n), w.AttentionGradient.AsSpan(t * n, n), scale);
            MatrixOps.Multiply(w.AttentionGradient, s.Kh[j], w.HeadGradient, n, n, dk);
            AttentionOps.MergeHead(w.HeadGradient, w.QGradient, j, n, dk, h);
            Array.Clear(w.HeadGradient, 0, n * dk);
            MatrixOps.MultiplyTransposedA(w.AttentionGradient, s.Qh[j], w.HeadGradient, n, n, dk);
            AttentionOps.MergeHead(w.HeadGradient, w.KGradient, j, n, dk, h);
        }
        var x = w.X[l];
        LinearBackward(x, w.QGradient, $"{prefix}.attention.self.query", g, w.InputGradient, n, h, h, accumulate: true);
        LinearBackward(x, w.KGradient, $"{prefix}.attention.self.key", g, w.InputGradient, n, h, h, accumulate: true);
        LinearBackward(x, w.VGradient, $"{prefix}.attention.self.value", g, w.InputGradient, n, h, h, accumulate: true);
        Array.Copy(w.InputGradient, w.Gradient, n * h);
    }

    /// <summary>y[n, out] = x[n, in] · Wᵀ + b, with W in PyTorch layout [out, in].</summary>
    private void Linear(float[] x, string name, float[] y, int n, int inputs, int outputs)
    {
        MatrixOps.MultiplyTransposedB(x.AsSpan(0, n * inputs), Parameters[$"{name}.weight"], y, n, inputs, outputs);
        MatrixOps.AddBias(y.AsSpan(0, n * outputs), Parameters[$"{name}.bias"], n);
    }

    /// <summary>Weight and bias gradients of <see cref="Linear"/>, and the input gradient (written or added).</summary>
    private void LinearBackward(float[] x, float[] dy, string name, BertParameters g, float[] dx, int n, int inputs, int outputs, bool accumulate)
    {
        MatrixOps.SumRows(dy.AsSpan(0, n * outputs), g[$"{name}.bias"], n);
        MatrixOps.MultiplyTransposedA(dy.AsSpan(0, n * outputs), x.AsSpan(0, n * inputs), g[$"{name}.weight"], n, outputs, inputs);
        MatrixOps.Multiply(dy.AsSpan(0, n * outputs), Parameters[$"{name}.weight"], dx.AsSpan(0, n * inputs), n, outputs, inputs, accumulate);
    }

    private static float Gelu(float x) => 0.5f * x * (1f + Erf(x / MathF.Sqrt(2f)));

    private static float GeluDerivative(float x) => 0.5f * (1f + Erf(x / MathF.Sqrt(2f))) + x * MathF.Exp(-0.5f * x * x) / MathF.Sqrt(2f * MathF.PI);

    /// <summary>erf by Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7).</summary>
    private static float Erf(float x)
    {
        float sign = MathF.Sign(x);
        x = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * x);
        float y = 1f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t * MathF.Exp(-x * x);
        return sign * y;
    }
}
