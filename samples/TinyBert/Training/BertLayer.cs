using TinyBert.Encoder;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TinyBert.Training;

/// <summary>
/// One post-LayerNorm BERT layer: self-attention (query/key/value, scaled dot product with the additive mask, output
/// projection) + residual + LayerNorm, then erf-GELU feed-forward + residual + LayerNorm.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear attention_output;
    private readonly LayerNorm attention_norm;
    private readonly Linear intermediate;
    private readonly Linear output;
    private readonly LayerNorm output_norm;
    private readonly int _heads;
    private readonly int _headSize;

    /// <summary>Creates the layer for <paramref name="config"/>'s sizes.</summary>
    public BertLayer(BertConfig config) : base("bert_layer")
    {
        int h = config.HiddenSize;
        (_heads, _headSize) = (config.Heads, config.HeadSize);
        query = nn.Linear(h, h);
        key = nn.Linear(h, h);
        value = nn.Linear(h, h);
        attention_output = nn.Linear(h, h);
        attention_norm = nn.LayerNorm(new long[] { h }, config.LayerNormEpsilon);
        intermediate = nn.Linear(h, config.IntermediateSize);
        output = nn.Linear(config.IntermediateSize, h);
        output_norm = nn.LayerNorm(new long[] { h }, config.LayerNormEpsilon);
        RegisterComponents();
    }

    /// <summary>Hidden states [batch, sequence, hidden] and the additive mask [batch, 1, 1, sequence] → hidden states.</summary>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        long batch = x.shape[0], sequence = x.shape[1];
        Tensor Heads(Linear projection) => projection.forward(x).view(batch, sequence, _heads, _headSize).transpose(1, 2);
        var scores = Heads(query).matmul(Heads(key).transpose(2, 3)) * (1.0 / Math.Sqrt(_headSize)) + additiveMask;
        var context = scores.softmax(-1).matmul(Heads(value)).transpose(1, 2).reshape(batch, sequence, _heads * _headSize);
        var attended = attention_norm.forward(attention_output.forward(context) + x);
        return output_norm.forward(output.forward(nn.functional.gelu(intermediate.forward(attended))) + attended);
    }

    /// <summary>The layer's weights and biases under their Hugging Face names within <c>encoder.layer.N</c>.</summary>
    public IEnumerable<(string Name, Tensor Weight, Tensor? Bias)> NamedLinearAndNormTensors()
    {
        yield return ("attention.self.query", query.weight!, query.bias);
        yield return ("attention.self.key", key.weight!, key.bias);
        yield return ("attention.self.value", value.weight!, value.bias);
        yield return ("attention.output.dense", attention_output.weight!, attention_output.bias);
        yield return ("attention.output.LayerNorm", attention_norm.weight!, attention_norm.bias);
        yield return ("intermediate.dense", intermediate.weight!, intermediate.bias);
        yield return ("output.dense", output.weight!, output.bias);
        yield return ("output.LayerNorm", output_norm.weight!, output_norm.bias);
    }
}
