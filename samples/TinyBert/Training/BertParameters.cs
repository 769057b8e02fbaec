using TinyBert.Encoder;

namespace TinyBert.Training;

/// <summary>
/// BERT weights under their Hugging Face names in PyTorch layout (linear weights [out, in]), plus a one-unit
/// classifier used only to train the encoder from scratch.
/// </summary>
public sealed class BertParameters
{
    private readonly Dictionary<string, (long[] Shape, float[] Values)> _tensors = new(StringComparer.Ordinal);

    /// <summary>Allocates zeroed weights for <paramref name="config"/>.</summary>
    public BertParameters(BertConfig config)
    {
        Config = config;
        int h = config.HiddenSize, i = config.IntermediateSize;
        Add("embeddings.word_embeddings.weight", config.VocabularySize, h);
        Add("embeddings.position_embeddings.weight", config.MaxPositions, h);
        Add("embeddings.token_type_embeddings.weight", config.TypeVocabularySize, h);
        AddNorm("embeddings.LayerNorm");
        for (int l = 0; l < config.Layers; l++)
        {
            var p = $"encoder.layer.{l}";
            foreach (var name in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" }) AddLinear($"{p}.{name}", h, h);
            AddNorm($"{p}.attention.output.LayerNorm");
            AddLinear($"{p}.intermediate.dense", h, i);
            AddLinear($"{p}.output.dense", i, h);
            AddNorm($"{p}.output.LayerNorm");
        }
        AddLinear("pooler.dense", h, h);
        AddLinear("classifier", h, 1);
    }

    /// <summary>The sizes.</summary>
    public BertConfig Config { get; }

    /// <summary>Every tensor in a fixed order.</summary>
    public IReadOnlyList<float[]> All => _tensors.Values.Select(t => t.Values).ToList();

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    public float[] this[string name] => _tensors[name].Values;

    /// <summary>The encoder's tensors (the classifier left out) for <see cref="BertWeights"/>.</summary>
    public Dictionary<string, NamedTensor> EncoderTensors() =>
        _tensors.Where(kv => !kv.Key.StartsWith("classifier", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => new NamedTensor(kv.Key, kv.Value.Shape, kv.Value.Values));

    /// <summary>Views tensors laid out as <see cref="All"/> (e.g. gradients) under the same names.</summary>
    public BertParameters Wrap(IReadOnlyList<float[]> tensors)
    {
        var view = new BertParameters(Config);
        int k = 0;
        foreach (var name in _tensors.Keys.ToList()) view._tensors[name] = (_tensors[name].Shape, tensors[k++]);
        return view;
    }

    /// <summary>BERT's initialization: weights normal(0, 0.02), biases 0, LayerNorm γ = 1.</summary>
    public static BertParameters Initialize(BertConfig config, int seed)
    {
        var parameters = new BertParameters(config);
        var random = new Random(seed);
        foreach (var (name, (_, values)) in parameters._tensors)
        {
            if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) Array.Fill(values, 1f);
            else if (name.EndsWith(".weight", StringComparison.Ordinal))
                for (int i = 0; i < values.Length; i++) values[i] = 0.02f * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return parameters;
    }

    private void Add(string name, params long[] shape) => _tensors[name] = (shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);

    private void AddLinear(string name, int inputs, int outputs)
    {
        Add($"{name}.weight", outputs, inputs);
        Add($"{name}.bias", outputs);
    }

    private void AddNorm(string name)
    {
        Add($"{name}.weight", Config.HiddenSize);
        Add($"{name}.bias", Config.HiddenSize);
    }
}
