using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Quantization.TorchSharp;

/// <summary>
/// Fake quantization: values rounded to the integer grid and back to float in the forward pass, with the
/// straight-through estimator in the backward pass (rounding counts as the identity; values clamped away get no
/// gradient), so a network learns weights and ranges that survive 8-bit integers.
/// </summary>
public static class FakeQuantize
{
    /// <summary>Per-tensor affine: q = clamp(round(x / scale) + zeroPoint, qmin, qmax), returned as (q − zeroPoint) · scale.</summary>
    /// <param name="x">The values.</param>
    /// <param name="scale">The scale: a positive number, or a one-element tensor to learn it (LSQ).</param>
    /// <param name="zeroPoint">The zero point.</param>
    /// <param name="qmin">Smallest integer.</param>
    /// <param name="qmax">Largest integer.</param>
    public static Tensor PerTensor(Tensor x, Tensor scale, long zeroPoint, long qmin, long qmax)
    {
        var scaled = x / scale + zeroPoint;
        var rounded = scaled + (scaled.round() - scaled).detach();
        return (rounded.clamp(qmin, qmax) - zeroPoint) * scale;
    }

    /// <summary>
    /// Per-channel symmetric along <paramref name="axis"/>: scale = 2·max|w| / (qmax − qmin) per channel, zero point
    /// 0 — the scheme MLNet.Quantization writes weights in, so the trained model and the exported one agree.
    /// </summary>
    /// <param name="weight">The weight.</param>
    /// <param name="axis">The channel axis (0 for a TorchSharp Linear's [out, in] weight: one scale per output).</param>
    /// <param name="qmin">Smallest integer (−127, or −64 with reduce range).</param>
    /// <param name="qmax">Largest integer (127, or 64 with reduce range).</param>
    public static Tensor PerChannelSymmetric(Tensor weight, int axis, long qmin, long qmax)
    {
        var dims = Enumerable.Range(0, (int)weight.dim()).Where(d => d != axis).Select(d => (long)d).ToArray();
        var absMax = weight.detach().abs().amax(dims, keepdim: true);
        var scale = (absMax * (2.0 / (qmax - qmin))).clamp_min(1e-12);
        return PerTensor(weight, scale, 0, qmin, qmax);
    }
}
