using TinyBert.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TinyBert.Training;

/// <summary>
/// BERT (post-LayerNorm, erf GELU, additive attention mask, tanh pooler) as TorchSharp modules, with a one-unit
/// classifier on the pooled [CLS] state — used to train the encoder from scratch when no pretrained checkpoint is
/// at hand. <see cref="forward"/> takes token ids [batch, sequence] (id 0, [PAD], is masked out as a key) and returns
/// one logit per row; <see cref="EncoderTensors"/> gives the encoder under its Hugging Face names for the ONNX export.
/// </summary>
public sealed class BertClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm embedding_norm;
    private readonly ModuleList<BertLayer> layers;
    private readonly Linear pooler;
    private readonly Linear classifier;

    /// <summary>Creates the network with BERT's initialization: weights normal(0, 0.02), biases 0, LayerNorm γ = 1.</summary>
    public BertClassifier(BertConfig config) : base("bert_classifier")
    {
        Config = config;
        int h = config.HiddenSize;
        word_embeddings = nn.Embedding(config.VocabularySize, h);
        position_embeddings = nn.Embedding(config.MaxPositions, h);
        token_type_embeddings = nn.Embedding(config.TypeVocabularySize, h);
        embedding_norm = nn.LayerNorm(new long[] { h }, config.LayerNormEpsilon);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new BertLayer(config)).ToArray());
        pooler = nn.Linear(h, h);
        classifier = nn.Linear(h, 1);
        RegisterComponents();
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in named_parameters())
            {
                if (name.EndsWith("norm.weight", StringComparison.Ordinal)) nn.init.ones_(parameter);
                else if (name.EndsWith(".weight", StringComparison.Ordinal)) nn.init.normal_(parameter, 0, 0.02);
                else nn.init.zeros_(parameter);
            }
        }
    }

    /// <summary>The sizes.</summary>
    public BertConfig Config { get; }

    /// <summary>Token ids [batch, sequence] (int64) → logits [batch].</summary>
    public override Tensor forward(Tensor ids) => classifier.forward(Pooled(ids)).squeeze(-1);

    /// <summary>The pooled [CLS] state [batch, hidden]: what the ONNX encoder returns as pooler_output.</summary>
    public Tensor Pooled(Tensor ids)
    {
        long sequence = ids.shape[1];
        var positions = torch.arange(sequence, dtype: ScalarType.Int64).unsqueeze(0);
        var x = embedding_norm.forward(word_embeddings.forward(ids) + position_embeddings.forward(positions) + token_type_embeddings.forward(torch.zeros_like(ids)));
        var additiveMask = ((1f - ids.ne(0).to_type(ScalarType.Float32)) * -10000f).unsqueeze(1).unsqueeze(2);
        foreach (var layer in layers) x = layer.forward(x, additiveMask);
        return pooler.forward(x.select(1, 0)).tanh();
    }

    /// <summary>The encoder's tensors (the classifier left out) under their Hugging Face names, in PyTorch layout.</summary>
    public Dictionary<string, NamedTensor> EncoderTensors()
    {
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        void Add(string name, Tensor tensor) => tensors[name] = new NamedTensor(name, tensor.shape, tensor.detach().contiguous().data<float>().ToArray());
        void AddModule(string name, Tensor weight, Tensor? bias)
        {
            Add($"{name}.weight", weight);
            if (bias is not null) Add($"{name}.bias", bias);
        }
        AddModule("embeddings.word_embeddings", word_embeddings.weight!, null);
        AddModule("embeddings.position_embeddings", position_embeddings.weight!, null);
        AddModule("embeddings.token_type_embeddings", token_type_embeddings.weight!, null);
        AddModule("embeddings.LayerNorm", embedding_norm.weight!, embedding_norm.bias);
        for (int l = 0; l < layers.Count; l++)
            foreach (var (name, weight, bias) in layers[l].NamedLinearAndNormTensors()) AddModule($"encoder.layer.{l}.{name}", weight, bias);
        AddModule("pooler.dense", pooler.weight!, pooler.bias);
        return tensors;
    }
}
