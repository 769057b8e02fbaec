using ImdbSentiment.Model;
using MLNet.Quantization;
using MLNet.Quantization.TorchSharp;
using Sentiment.Common;

namespace ImdbSentiment.Lab;

/// <summary>What quantization-aware training produced: the learned ranges, the fine-tuning epochs and the report's note.</summary>
/// <param name="Overrides">The learned activation ranges, by ONNX tensor name, for static quantization of the fine-tuned model.</param>
/// <param name="Epochs">The fine-tuning epochs.</param>
/// <param name="Note">One line for the report.</param>
public sealed record QatOutcome(QuantizationOverrides Overrides, IReadOnlyList<EpochResult> Epochs, string Note);

/// <summary>
/// The "QAT INT8" row: the trained float network is fine-tuned with every activation the static INT8 model quantizes
/// and every projection weight fake-quantized (MLNet.Quantization.TorchSharp), after a pass that calibrates the
/// observers; the fine-tuned weights and learned ranges then go through the same static quantization as the
/// "static INT8" row.
/// </summary>
public static class QatRow
{
    /// <summary>Fine-tunes <paramref name="network"/> in place (its hooks stay set) and returns the learned ranges.</summary>
    public static QatOutcome Run(SentimentNetwork network, IReadOnlyList<int[]> trainIds, IReadOnlyList<bool> labels, LabOptions options, QuantizationOptions staticOptions, TextWriter log)
    {
        var qat = new QuantizationAwareTraining(staticOptions.EffectiveReduceRange, learnScales: options.LearnedScales);
        network.ProductInputHook = (point, x) => qat.Activation(TransformerOnnxExporter.TensorName(point), x, network.training);
        network.WeightHook = (_, weight) => qat.Weight(weight);
        var calibration = trainIds.Take(options.CalibrationSamples).ToList();
        qat.Observe(() => TorchTrainer.Predict(network, calibration));
        var scales = qat.StartFineTuning();
        string how = options.LearnedScales ? "learned scales (LSQ)" : "moving-average min/max observers";
        log.WriteLine($"Quantization-aware fine-tuning: {options.QatEpochs} epoch(s), AdamW lr {options.QatLearningRate:G3}, {qat.Activations.Count} activations ({how}) and the projection weights (per-channel int8{(staticOptions.EffectiveReduceRange ? ", 7-bit as this CPU needs" : "")}) fake-quantized ...");
        var epochs = TorchTrainer.Train(network, trainIds, labels, options.QatEpochs, options.BatchSize, options.Seed + 1, new EpochLogger(log), options.QatLearningRate, scales);
        var note = $"QAT INT8: the float model fine-tuned {options.QatEpochs} epoch(s) with fake quantization ({how}, observers calibrated on {calibration.Count} training reviews first), then quantized like static INT8 with the learned ranges of its {qat.Activations.Count} activations.";
        return new QatOutcome(qat.ToOverrides(), epochs.Select(e => e with { Epoch = e.Epoch + options.Epochs }).ToList(), note);
    }
}
