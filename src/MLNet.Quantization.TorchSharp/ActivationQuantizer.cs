using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.Quantization.TorchSharp;

/// <summary>
/// Quantizes one activation tensor while training: a moving-average min/max observer (updated in training mode)
/// gives an unsigned 8-bit range computed exactly as MLNet.Quantization computes it (the range always holds 0;
/// scale = (max − min) / 255; zero point rounded); with learned scales (LSQ, Esser et al. 2020, gradient scaled by
/// 1/√(N·255)) the scale becomes a trained parameter when fine-tuning starts.
/// </summary>
public sealed class ActivationQuantizer
{
    private const long QMin = 0, QMax = 255;
    private readonly double _averagingConstant;
    private readonly bool _learnScale;
    private double _min, _max;
    private bool _observed;
    private Parameter? _learnedScale;
    private long _zeroPoint;

    /// <summary>Creates a quantizer.</summary>
    /// <param name="averagingConstant">Weight of each new batch's min/max in the moving average (0.01 as PyTorch's observer).</param>
    /// <param name="learnScale">Learn the scale by gradient descent (LSQ) once the observer has seen a batch.</param>
    public ActivationQuantizer(double averagingConstant = 0.01, bool learnScale = false)
    {
        if (!(averagingConstant > 0 && averagingConstant <= 1)) throw new ArgumentOutOfRangeException(nameof(averagingConstant), averagingConstant, "Must be in (0, 1].");
        _averagingConstant = averagingConstant;
        _learnScale = learnScale;
    }

    /// <summary>Whether fake quantization is applied (off while only observing, e.g. for a calibration pass).</summary>
    public bool Enabled { get; set; }

    /// <summary>The learned scale (LSQ), to hand to the optimizer; null until the first observation or without LSQ.</summary>
    public Tensor? LearnedScale => _learnedScale;

    /// <summary>The range the exported model uses: observed, or implied by the learned scale and zero point.</summary>
    public (float Min, float Max) Range
    {
        get
        {
            if (!_observed) throw new InvalidOperationException("This activation was never observed: run the network on data in training mode first.");
            if (_learnedScale is null) return ((float)_min, (float)_max);
            double scale = Math.Abs(_learnedScale.item<float>());
            return ((float)((QMin - _zeroPoint) * scale), (float)((QMax - _zeroPoint) * scale));
        }
    }

    /// <summary>Observes <paramref name="x"/> when <paramref name="training"/>, then fake-quantizes it when <see cref="Enabled"/>.</summary>
    public Tensor Forward(Tensor x, bool training)
    {
        if (training && _learnedScale is null) Observe(x);
        if (!Enabled || !_observed) return x;
        if (_learnedScale is not null)
        {
            double gradientScale = 1.0 / Math.Sqrt(x.numel() * QMax);
            var scaled = _learnedScale.abs() * gradientScale + (_learnedScale.abs() - _learnedScale.abs() * gradientScale).detach();
            return FakeQuantize.PerTensor(x, scaled, _zeroPoint, QMin, QMax);
        }
        var (s, z) = Parameters(_min, _max);
        return FakeQuantize.PerTensor(x, torch.tensor((float)s), z, QMin, QMax);
    }

    /// <summary>With learned scales: starts the scale from the observed range and returns it for the optimizer; otherwise null.</summary>
    public Parameter? StartLearning()
    {
        if (!_learnScale || !_observed) return null;
        var (scale, zeroPoint) = Parameters(_min, _max);
        _learnedScale ??= new Parameter(torch.tensor((float)scale));
        _zeroPoint = zeroPoint;
        return _learnedScale;
    }

    private void Observe(Tensor x)
    {
        using var noGrad = torch.no_grad();
        double low = x.min().item<float>(), high = x.max().item<float>();
        if (!_observed) (_min, _max, _observed) = (low, high, true);
        else
        {
            _min += _averagingConstant * (low - _min);
            _max += _averagingConstant * (high - _max);
        }
    }

    /// <summary>Scale and zero point of an unsigned 8-bit range, as MLNet.Quantization computes them.</summary>
    private static (double Scale, long ZeroPoint) Parameters(double min, double max)
    {
        float rmin = MathF.Min((float)min, 0f), rmax = MathF.Max((float)max, 0f);
        float scale = (rmax - rmin) / (QMax - QMin);
        if (!(scale > 1e-30f)) return (1.0, 0);
        long zeroPoint = (long)MathF.Round(QMin - rmin / scale, MidpointRounding.ToEven);
        return (scale, Math.Clamp(zeroPoint, QMin, QMax));
    }
}
