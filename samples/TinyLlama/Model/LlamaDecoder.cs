using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TinyLlama.Model;

/// <summary>A Llama-shaped causal language model: token embedding, decoder layers, final RMSNorm, untied output projection.</summary>
public sealed class LlamaDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly Linear lm_head;
    private readonly Tensor _cos;
    private readonly Tensor _sin;

    /// <summary>Creates the model with PyTorch's default initialization (embeddings N(0, 0.02) as Llama's).</summary>
    public LlamaDecoder(LlamaConfig config) : base("llama")
    {
        config.Validate();
        Config = config;
        embed_tokens = nn.Embedding(config.Vocabulary, config.Hidden);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new DecoderLayer(config)).ToArray());
        norm = new RmsNorm(config.Hidden, config.NormEpsilon);
        lm_head = nn.Linear(config.Hidden, config.Vocabulary, hasBias: false);
        RegisterComponents();
        using (torch.no_grad()) embed_tokens.weight!.normal_(0, 0.02);
        var (cos, sin) = config.RotaryTables();
        _cos = torch.tensor(cos, new long[] { config.MaxPositions, config.HeadSize / 2 });
        _sin = torch.tensor(sin, new long[] { config.MaxPositions, config.HeadSize / 2 });
    }

    /// <summary>The sizes.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Token ids [batch, sequence] (int64) → logits [batch, sequence, vocabulary].</summary>
    public override Tensor forward(Tensor ids)
    {
        long sequence = ids.shape[1];
        var cos = _cos.narrow(0, 0, sequence);
        var sin = _sin.narrow(0, 0, sequence);
        var mask = torch.triu(torch.full(sequence, sequence, float.NegativeInfinity), 1);
        var x = embed_tokens.forward(ids);
        foreach (var layer in layers) x = layer.forward(x, cos, sin, mask);
        return lm_head.forward(norm.forward(x));
    }

    /// <summary>Every tensor under Hugging Face Llama names (Linear weights as [out, in]).</summary>
    public IEnumerable<(string Name, Tensor Value)> NamedTensors()
    {
        yield return ("model.embed_tokens.weight", embed_tokens.weight!);
        for (int i = 0; i < layers.Count; i++)
            foreach (var (name, value) in layers[i].NamedTensors()) yield return ($"model.layers.{i}.{name}", value);
        yield return ("model.norm.weight", norm.Weight);
        yield return ("lm_head.weight", lm_head.weight!);
    }
}
