namespace TinyBert.Encoder;

/// <summary>
/// A BERT checkpoint's tensors looked up by their Hugging Face names (with or without the "bert." prefix; old
/// LayerNorm "gamma"/"beta" names accepted), with shapes checked against the config.
/// </summary>
public sealed class BertWeights
{
    private readonly IReadOnlyDictionary<string, NamedTensor> _tensors;
    private readonly string _prefix;

    /// <summary>Wraps the tensors of a checkpoint for <paramref name="config"/>.</summary>
    public BertWeights(BertConfig config, IReadOnlyDictionary<string, NamedTensor> tensors)
    {
        Config = config;
        _tensors = tensors;
        _prefix = tensors.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        Get("embeddings.word_embeddings.weight", config.VocabularySize, config.HiddenSize);
    }

    /// <summary>The configuration the shapes are checked against.</summary>
    public BertConfig Config { get; }

    /// <summary>The tensor called <paramref name="name"/> (without prefix), checked to have shape <paramref name="shape"/>.</summary>
    public float[] Get(string name, params long[] shape)
    {
        var tensor = Find(name) ?? throw new InvalidDataException($"The checkpoint has no tensor '{_prefix}{name}'; is it a BERT model (BertModel / BertForSequenceClassification)?");
        if (!tensor.Shape.SequenceEqual(shape))
            throw new InvalidDataException($"Tensor '{tensor.Name}' has shape [{string.Join(",", tensor.Shape)}]; config.json implies [{string.Join(",", shape)}].");
        return tensor.Values;
    }

    /// <summary>A linear layer's weight, transposed from PyTorch's [out, in] to the [in, out] a MatMul needs, and its bias.</summary>
    public (float[] Weight, float[] Bias) Linear(string name, int inputs, int outputs)
    {
        var weight = Get($"{name}.weight", outputs, inputs);
        var transposed = new float[weight.Length];
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++)
                transposed[i * outputs + o] = weight[o * inputs + i];
        return (transposed, Get($"{name}.bias", outputs));
    }

    /// <summary>A LayerNorm's scale and shift.</summary>
    public (float[] Gamma, float[] Beta) LayerNorm(string name) =>
        Find($"{name}.weight") is not null
            ? (Get($"{name}.weight", Config.HiddenSize), Get($"{name}.bias", Config.HiddenSize))
            : (Get($"{name}.gamma", Config.HiddenSize), Get($"{name}.beta", Config.HiddenSize));

    private NamedTensor? Find(string name) => _tensors.GetValueOrDefault(_prefix + name);
}
