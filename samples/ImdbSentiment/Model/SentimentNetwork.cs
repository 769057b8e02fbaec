using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ImdbSentiment.Model;

/// <summary>
/// The lab's network as TorchSharp modules: token + position embedding (as the classic Keras lab's
/// TokenAndPositionEmbedding) → LayerNorm → multi-head self-attention (query/key/value/output projections) → mean over
/// the sequence → Dense + ReLU → Dropout → Dense. <see cref="forward"/> returns the logit of a positive review.
/// </summary>
public sealed class SentimentNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Embedding token;
    private readonly Parameter position;
    private readonly LayerNorm norm;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear output;
    private readonly Linear dense;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the network, initialized as Keras does: embeddings uniform ±0.05, dense layers Glorot uniform, biases 0.</summary>
    public SentimentNetwork(TransformerConfig config) : base("sentiment_transformer")
    {
        Config = config;
        int d = config.Embedding, p = config.Projection;
        token = nn.Embedding(config.Vocabulary, d);
        position = new Parameter(torch.empty(config.Sequence, d));
        norm = nn.LayerNorm(new long[] { d }, TransformerConfig.Epsilon);
        query = nn.Linear(d, p);
        key = nn.Linear(d, p);
        value = nn.Linear(d, p);
        output = nn.Linear(p, d);
        dense = nn.Linear(d, config.Hidden);
        dropout = nn.Dropout(config.Dropout);
        classifier = nn.Linear(config.Hidden, 1);
        RegisterComponents();
        using (torch.no_grad())
        {
            nn.init.uniform_(token.weight, -0.05, 0.05);
            nn.init.uniform_(position, -0.05, 0.05);
            foreach (var linear in new[] { query, key, value, output, dense, classifier })
            {
                nn.init.xavier_uniform_(linear.weight);
                nn.init.zeros_(linear.bias);
            }
        }
    }

    /// <summary>The sizes.</summary>
    public TransformerConfig Config { get; }

    /// <summary>Optional hook on each input of an integer product (see <see cref="ProductInput"/>), for quantization-aware training.</summary>
    public Func<ProductInput, Tensor, Tensor>? ProductInputHook { get; set; }

    /// <summary>Optional replacement of each projection's weight in the forward pass (by module name), for quantization-aware training.</summary>
    public Func<string, Tensor, Tensor>? WeightHook { get; set; }

    /// <summary>Token ids [batch, sequence] (int64) → logits [batch].</summary>
    public override Tensor forward(Tensor ids)
    {
        var c = Config;
        long batch = ids.shape[0];
        int l = c.Sequence, h = c.Heads, dk = c.KeyDimension;
        var normalized = Hook(ProductInput.Normalized, norm.forward(token.forward(ids) + position));
        Tensor Heads(Tensor projected) => projected.view(batch, l, h, dk).transpose(1, 2);
        var q = Hook(ProductInput.Query, Heads(Linear("query", query, normalized)));
        var kT = Hook(ProductInput.KeyTransposed, Heads(Linear("key", key, normalized)).transpose(2, 3));
        var v = Hook(ProductInput.Value, Heads(Linear("value", value, normalized)));
        var weights = Hook(ProductInput.AttentionWeights, (q.matmul(kT) * (1.0 / Math.Sqrt(dk))).softmax(-1));
        var context = Hook(ProductInput.Context, weights.matmul(v).transpose(1, 2).reshape(batch, l, c.Projection));
        var pooled = Hook(ProductInput.Pooled, Linear("output", output, context).mean(new long[] { 1 }));
        var hidden = Hook(ProductInput.Hidden, dropout.forward(nn.functional.relu(Linear("dense", dense, pooled))));
        return Linear("classifier", classifier, hidden).squeeze(-1);
    }

    private Tensor Hook(ProductInput point, Tensor x) => ProductInputHook is { } hook ? hook(point, x) : x;

    private Tensor Linear(string name, Linear layer, Tensor x) =>
        WeightHook is { } hook ? nn.functional.linear(x, hook(name, layer.weight!), layer.bias) : layer.forward(x);
}

/// <summary>
/// The activations the static INT8 model quantizes at the inputs of its integer products; the ONNX export names them
/// (<see cref="TransformerOnnxExporter.TensorName"/>).
/// </summary>
public enum ProductInput
{
    /// <summary>LayerNorm output, read by the query/key/value projections.</summary>
    Normalized,

    /// <summary>Query heads [batch, heads, sequence, dk].</summary>
    Query,

    /// <summary>Transposed key heads [batch, heads, dk, sequence].</summary>
    KeyTransposed,

    /// <summary>Value heads [batch, heads, sequence, dk].</summary>
    Value,

    /// <summary>Softmax of the scaled scores.</summary>
    AttentionWeights,

    /// <summary>Merged heads, read by the output projection.</summary>
    Context,

    /// <summary>Mean over the sequence, read by the dense layer.</summary>
    Pooled,

    /// <summary>Dense + ReLU (+ dropout in training), read by the classifier.</summary>
    Hidden,
}
