using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TinyLlama.Model;

/// <summary>x / sqrt(mean(x²) + ε) · g over the last axis (Llama's normalization: no mean subtraction, no bias).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly float _epsilon;

    /// <summary>Creates the norm with a gain of ones.</summary>
    public RmsNorm(int size, float epsilon) : base("rms_norm")
    {
        weight = new Parameter(torch.ones(size));
        _epsilon = epsilon;
        RegisterComponents();
    }

    /// <summary>The gain g.</summary>
    public Tensor Weight => weight;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x * (x.pow(2).mean(new long[] { -1 }, keepdim: true) + _epsilon).rsqrt() * weight;
}
