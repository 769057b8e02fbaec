using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TinyLlama.Model;

/// <summary>
/// One Llama layer: RMSNorm → grouped-query causal self-attention with rotary positions (no biases) → residual;
/// RMSNorm → SwiGLU feed-forward (down(silu(gate(x)) · up(x))) → residual.
/// </summary>
public sealed class DecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    private readonly RmsNorm input_layernorm;
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear o_proj;
    private readonly RmsNorm post_attention_layernorm;
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;
    private readonly LlamaConfig _config;

    /// <summary>Creates the layer for <paramref name="config"/>'s sizes.</summary>
    public DecoderLayer(LlamaConfig config) : base("decoder_layer")
    {
        _config = config;
        int h = config.Hidden, kv = config.KeyValueHeads * config.HeadSize;
        input_layernorm = new RmsNorm(h, config.NormEpsilon);
        q_proj = nn.Linear(h, h, hasBias: false);
        k_proj = nn.Linear(h, kv, hasBias: false);
        v_proj = nn.Linear(h, kv, hasBias: false);
        o_proj = nn.Linear(h, h, hasBias: false);
        post_attention_layernorm = new RmsNorm(h, config.NormEpsilon);
        gate_proj = nn.Linear(h, config.Intermediate, hasBias: false);
        up_proj = nn.Linear(h, config.Intermediate, hasBias: false);
        down_proj = nn.Linear(config.Intermediate, h, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Hidden states [batch, sequence, hidden], rotary cos/sin [sequence, headSize/2], additive causal mask [sequence, sequence].</summary>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        long batch = x.shape[0], sequence = x.shape[1];
        int heads = _config.Heads, kvHeads = _config.KeyValueHeads, size = _config.HeadSize;
        var normed = input_layernorm.forward(x);
        var q = Rotate(q_proj.forward(normed).view(batch, sequence, heads, size).transpose(1, 2), cos, sin);
        var k = Rotate(k_proj.forward(normed).view(batch, sequence, kvHeads, size).transpose(1, 2), cos, sin);
        var v = v_proj.forward(normed).view(batch, sequence, kvHeads, size).transpose(1, 2);
        k = k.repeat_interleave(_config.GroupSize, 1);
        v = v.repeat_interleave(_config.GroupSize, 1);
        var scores = q.matmul(k.transpose(2, 3)) * (1.0 / Math.Sqrt(size)) + mask;
        var context = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(batch, sequence, _config.Hidden);
        x = x + o_proj.forward(context);
        var h = post_attention_layernorm.forward(x);
        return x + down_proj.forward(nn.functional.silu(gate_proj.forward(h)) * up_proj.forward(h));
    }

    /// <summary>Rotary positions, rotate-half form: (x₁, x₂) → (x₁·cos − x₂·sin, x₂·cos + x₁·sin).</summary>
    public static Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return torch.cat(new[] { x1 * cos - x2 * sin, x2 * cos + x1 * sin }, -1);
    }

    /// <summary>The layer's tensors under Hugging Face Llama names within <c>model.layers.N</c> (Linear weights as [out, in]).</summary>
    public IEnumerable<(string Name, Tensor Value)> NamedTensors()
    {
        yield return ("input_layernorm.weight", input_layernorm.Weight);
        yield return ("self_attn.q_proj.weight", q_proj.weight!);
        yield return ("self_attn.k_proj.weight", k_proj.weight!);
        yield return ("self_attn.v_proj.weight", v_proj.weight!);
        yield return ("self_attn.o_proj.weight", o_proj.weight!);
        yield return ("post_attention_layernorm.weight", post_attention_layernorm.Weight);
        yield return ("mlp.gate_proj.weight", gate_proj.weight!);
        yield return ("mlp.up_proj.weight", up_proj.weight!);
        yield return ("mlp.down_proj.weight", down_proj.weight!);
    }
}
