using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.Quantization.TorchSharp;

/// <summary>
/// Quantization-aware training of a TorchSharp network: the network routes each activation that its INT8 model will
/// quantize through <see cref="Activation"/> (by that tensor's ONNX name) and each weight of an integer product
/// through <see cref="Weight"/>; after fine-tuning, <see cref="ToOverrides"/> gives the learned ranges for
/// MLNet.Quantization's static mode, which writes the exported float model as QDQ or QOperator with exactly those
/// scales and zero points (weights are quantized there by the same per-channel symmetric rule).
/// </summary>
public sealed class QuantizationAwareTraining
{
    private readonly Dictionary<string, ActivationQuantizer> _activations = new(StringComparer.Ordinal);
    private readonly double _averagingConstant;
    private readonly bool _learnScales;
    private readonly long _weightMin, _weightMax;
    private bool _observing;

    /// <summary>Creates the training state.</summary>
    /// <param name="reduceRange">Weights in 7 bits (−64..64), as MLNet.Quantization writes them with <see cref="QuantizationOptions.ReduceRange"/>; pass <see cref="QuantizationOptions.EffectiveReduceRange"/> of the options the model will be quantized with.</param>
    /// <param name="averagingConstant">Moving-average constant of the activation observers.</param>
    /// <param name="learnScales">Learn activation scales (LSQ) instead of following the observers.</param>
    public QuantizationAwareTraining(bool reduceRange, double averagingConstant = 0.01, bool learnScales = false)
    {
        (_weightMin, _weightMax) = reduceRange ? (-64L, 64L) : (-127L, 127L);
        _averagingConstant = averagingConstant;
        _learnScales = learnScales;
    }

    /// <summary>Whether fake quantization is applied (off during <see cref="Observe"/>).</summary>
    public bool FakeQuantizationEnabled { get; private set; }

    /// <summary>The activation tensors seen so far, by ONNX name.</summary>
    public IReadOnlyDictionary<string, ActivationQuantizer> Activations => _activations;

    /// <summary>
    /// Runs <paramref name="forwardPasses"/> (the network in inference mode on calibration data) with every
    /// observer updating and nothing quantized, so fine-tuning starts from calibrated ranges.
    /// </summary>
    public void Observe(Action forwardPasses)
    {
        _observing = true;
        try
        {
            forwardPasses();
        }
        finally
        {
            _observing = false;
        }
    }

    /// <summary>Turns fake quantization on for fine-tuning; returns the learned scales (LSQ) to add to the optimizer (none without LSQ).</summary>
    public IReadOnlyList<Parameter> StartFineTuning()
    {
        FakeQuantizationEnabled = true;
        foreach (var quantizer in _activations.Values) quantizer.Enabled = true;
        return _activations.Values.Select(a => a.StartLearning()).OfType<Parameter>().ToList();
    }

    /// <summary>
    /// Observes (in training mode or during <see cref="Observe"/>) and fake-quantizes (once fine-tuning started) the
    /// activation the ONNX model calls <paramref name="onnxName"/>.
    /// </summary>
    public Tensor Activation(string onnxName, Tensor x, bool training)
    {
        if (!_activations.TryGetValue(onnxName, out var quantizer))
        {
            quantizer = new ActivationQuantizer(_averagingConstant, _learnScales) { Enabled = FakeQuantizationEnabled };
            _activations[onnxName] = quantizer;
        }
        return quantizer.Forward(x, training || _observing);
    }

    /// <summary>Fake-quantizes a weight per channel along <paramref name="axis"/> (0 for a Linear's [out, in] weight).</summary>
    public Tensor Weight(Tensor weight, int axis = 0) =>
        FakeQuantizationEnabled ? FakeQuantize.PerChannelSymmetric(weight, axis, _weightMin, _weightMax) : weight;

    /// <summary>The learned ranges as fixed-range overrides for static quantization of the exported model.</summary>
    public QuantizationOverrides ToOverrides() => new()
    {
        Tensors = _activations.ToDictionary(a => a.Key, a => { var (min, max) = a.Value.Range; return new TensorOverride(Min: min, Max: max); }, StringComparer.Ordinal),
    };
}
