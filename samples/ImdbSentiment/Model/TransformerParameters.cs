namespace ImdbSentiment.Model;

/// <summary>
/// The weights of the sentiment transformer, as flat row-major arrays (a matrix [in, out] maps a row vector of
/// width in to one of width out). The same layout holds gradients and Adam moments.
/// </summary>
public sealed class TransformerParameters
{
    /// <summary>Allocates zeroed weights for <paramref name="config"/>.</summary>
    public TransformerParameters(TransformerConfig config)
        : this(config, null)
    {
    }

    private TransformerParameters(TransformerConfig config, IReadOnlyList<float[]>? tensors)
    {
        if (tensors is not null)
        {
            Config = config;
            int k = 0;
            (Embedding, Position, Gamma, Beta, Query, QueryBias, Key, KeyBias, Value, ValueBias) = (tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++]);
            (Output, OutputBias, Dense, DenseBias, Classifier, ClassifierBias) = (tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++], tensors[k++]);
            return;
        }
        Config = config;
        int d = config.Embedding, p = config.Projection, h = config.Hidden;
        Embedding = new float[config.Vocabulary * d];
        Position = new float[config.Sequence * d];
        Gamma = new float[d];
        Beta = new float[d];
        Query = new float[d * p]; QueryBias = new float[p];
        Key = new float[d * p]; KeyBias = new float[p];
        Value = new float[d * p]; ValueBias = new float[p];
        Output = new float[p * d]; OutputBias = new float[d];
        Dense = new float[d * h]; DenseBias = new float[h];
        Classifier = new float[h]; ClassifierBias = new float[1];
    }

    /// <summary>The sizes.</summary>
    public TransformerConfig Config { get; }

    /// <summary>Token embeddings [Vocabulary, Embedding].</summary>
    public float[] Embedding { get; }

    /// <summary>Position embeddings [Sequence, Embedding], added to the token embeddings.</summary>
    public float[] Position { get; }

    /// <summary>LayerNormalization scale.</summary>
    public float[] Gamma { get; }

    /// <summary>LayerNormalization shift.</summary>
    public float[] Beta { get; }

    /// <summary>Query projection [Embedding, Projection].</summary>
    public float[] Query { get; }

    /// <summary>Query bias.</summary>
    public float[] QueryBias { get; }

    /// <summary>Key projection [Embedding, Projection].</summary>
    public float[] Key { get; }

    /// <summary>Key bias.</summary>
    public float[] KeyBias { get; }

    /// <summary>Value projection [Embedding, Projection].</summary>
    public float[] Value { get; }

    /// <summary>Value bias.</summary>
    public float[] ValueBias { get; }

    /// <summary>Attention output projection [Projection, Embedding].</summary>
    public float[] Output { get; }

    /// <summary>Attention output bias.</summary>
    public float[] OutputBias { get; }

    /// <summary>Dense layer [Embedding, Hidden].</summary>
    public float[] Dense { get; }

    /// <summary>Dense bias.</summary>
    public float[] DenseBias { get; }

    /// <summary>Output layer [Hidden, 1].</summary>
    public float[] Classifier { get; }

    /// <summary>Output bias.</summary>
    public float[] ClassifierBias { get; }

    /// <summary>Every tensor, in a fixed order (for optimizers and gradient accumulation).</summary>
    public IReadOnlyList<float[]> All => new[] { Embedding, Position, Gamma, Beta, Query, QueryBias, Key, KeyBias, Value, ValueBias, Output, OutputBias, Dense, DenseBias, Classifier, ClassifierBias };

    /// <summary>Initializes like Keras: token and position embeddings uniform ±0.05, dense layers Glorot uniform, biases 0, γ = 1.</summary>
    public static TransformerParameters Initialize(TransformerConfig config, int seed)
    {
        var parameters = new TransformerParameters(config);
        var random = new Random(seed);
        void Uniform(float[] values, double limit) { for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * limit); }
        double Glorot(int inputs, int outputs) => Math.Sqrt(6.0 / (inputs + outputs));
        int d = config.Embedding, p = config.Projection, h = config.Hidden;
        Uniform(parameters.Embedding, 0.05);
        Uniform(parameters.Position, 0.05);
        Array.Fill(parameters.Gamma, 1f);
        Uniform(parameters.Query, Glorot(d, p));
        Uniform(parameters.Key, Glorot(d, p));
        Uniform(parameters.Value, Glorot(d, p));
        Uniform(parameters.Output, Glorot(p, d));
        Uniform(parameters.Dense, Glorot(d, h));
        Uniform(parameters.Classifier, Glorot(h, 1));
        return parameters;
    }

    /// <summary>Views tensors laid out as <see cref="All"/> (e.g. gradient buffers) as parameters.</summary>
    public static TransformerParameters Wrap(TransformerConfig config, IReadOnlyList<float[]> tensors) => new(config, tensors);

    /// <summary>Zeroes every tensor (for gradient buffers).</summary>
    public void Clear()
    {
        foreach (var tensor in All) Array.Clear(tensor);
    }
}
