namespace MLNet.Quantization.Tests.TinyBert;

/// <summary>
/// BERT written directly from its definition, in double precision, over the checkpoint's PyTorch-layout weights
/// ([out, in] linear weights): an independent reference for the ONNX graph the builder makes.
/// </summary>
internal static class BertReference
{
    public static (double[,] Hidden, double[] Pooled) Run(BertCheckpoint w, long[] ids, long[] mask, long[] types)
    {
        int s = ids.Length, h = BertCheckpoint.Hidden, heads = BertCheckpoint.Heads, size = h / heads;
        var x = new double[s, h];
        for (int t = 0; t < s; t++)
            for (int i = 0; i < h; i++)
                x[t, i] = w["embeddings.word_embeddings.weight"][ids[t] * h + i] + w["embeddings.position_embeddings.weight"][t * h + i] + w["embeddings.token_type_embeddings.weight"][types[t] * h + i];
        x = Norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]);
        for (int l = 0; l < BertCheckpoint.Layers; l++)
        {
            string p = $"encoder.layer.{l}";
            var q = Linear(x, w, $"{p}.attention.self.query");
            var k = Linear(x, w, $"{p}.attention.self.key");
            var v = Linear(x, w, $"{p}.attention.self.value");
            var context = new double[s, h];
            for (int head = 0; head < heads; head++)
            {
                for (int t = 0; t < s; t++)
                {
                    var scores = new double[s];
                    for (int u = 0; u < s; u++)
                    {
                        double dot = 0;
                        for (int i = 0; i < size; i++) dot += q[t, head * size + i] * k[u, head * size + i];
                        scores[u] = dot / Math.Sqrt(size) + (1 - mask[u]) * -10000.0;
                    }
                    double max = scores.Max(), sum = scores.Sum(z => Math.Exp(z - max));
                    for (int u = 0; u < s; u++)
                    {
                        double a = Math.Exp(scores[u] - max) / sum;
                        for (int i = 0; i < size; i++) context[t, head * size + i] += a * v[u, head * size + i];
                    }
                }
            }
            x = Norm(Add(Linear(context, w, $"{p}.attention.output.dense"), x), w[$"{p}.attention.output.LayerNorm.weight"], w[$"{p}.attention.output.LayerNorm.bias"]);
            var intermediate = Linear(x, w, $"{p}.intermediate.dense");
            for (int t = 0; t < s; t++)
                for (int i = 0; i < intermediate.GetLength(1); i++)
                    intermediate[t, i] = 0.5 * intermediate[t, i] * (1 + Erf(intermediate[t, i] / Math.Sqrt(2)));
            x = Norm(Add(Linear(intermediate, w, $"{p}.output.dense"), x), w[$"{p}.output.LayerNorm.weight"], w[$"{p}.output.LayerNorm.bias"]);
        }
        var first = new double[1, h];
        for (int i = 0; i < h; i++) first[0, i] = x[0, i];
        var pooled = Linear(first, w, "pooler.dense");
        return (x, Enumerable.Range(0, h).Select(i => Math.Tanh(pooled[0, i])).ToArray());
    }

    private static double[,] Linear(double[,] x, BertCheckpoint w, string name)
    {
        var (shape, weight) = w.Tensors[$"{name}.weight"];
        var bias = w[$"{name}.bias"];
        int rows = x.GetLength(0), outputs = (int)shape[0], inputs = (int)shape[1];
        var y = new double[rows, outputs];
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < outputs; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inputs; i++) sum += x[t, i] * weight[o * inputs + i];
                y[t, o] = sum;
            }
        return y;
    }

    private static double[,] Add(double[,] a, double[,] b)
    {
        var y = (double[,])a.Clone();
        for (int t = 0; t < a.GetLength(0); t++) for (int i = 0; i < a.GetLength(1); i++) y[t, i] += b[t, i];
        return y;
    }

    private static double[,] Norm(double[,] x, float[] gamma, float[] beta)
    {
        int rows = x.GetLength(0), n = x.GetLength(1);
        var y = new double[rows, n];
        for (int t = 0; t < rows; t++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < n; i++) mean += x[t, i] / n;
            for (int i = 0; i < n; i++) variance += (x[t, i] - mean) * (x[t, i] - mean) / n;
            for (int i = 0; i < n; i++) y[t, i] = (x[t, i] - mean) / Math.Sqrt(variance + 1e-12) * gamma[i] + beta[i];
        }
        return y;
    }

    /// <summary>erf: its Taylor series below 2.5 (converged to double precision there), Abramowitz–Stegun 7.1.26 beyond (error below 1.5e-7).</summary>
    private static double Erf(double x)
    {
        double sign = Math.Sign(x);
        x = Math.Abs(x);
        if (x < 2.5)
        {
            double term = x, sum = x;
            for (int n = 1; n < 60; n++) { term *= -x * x / n; sum += term / (2 * n + 1); }
            return sign * 2 / Math.Sqrt(Math.PI) * sum;
        }
        double t = 1 / (1 + 0.3275911 * x);
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return sign * y;
    }
}
