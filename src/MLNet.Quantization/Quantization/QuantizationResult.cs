using MLNet.Quantization.Onnx;

namespace MLNet.Quantization;

/// <summary>A quantized model and the report of how it was made.</summary>
public sealed class QuantizationResult
{
    internal QuantizationResult(OnnxModel model, QuantizationReport report)
    {
        Model = model;
        Report = report;
    }

    /// <summary>The quantized model.</summary>
    public OnnxModel Model { get; }

    /// <summary>What was quantized, what stayed float and why, sizes and time.</summary>
    public QuantizationReport Report { get; }

    /// <summary>The quantized model serialized to bytes.</summary>
    public byte[] ToBytes() => OnnxModelFile.ToBytes(Model);

    /// <summary>
    /// Saves the quantized model atomically: it is written next to <paramref name="path"/> under a hidden name,
    /// loaded in ONNX Runtime, then moved into place; on any error or cancellation no file is left behind.
    /// </summary>
    /// <param name="path">Destination .onnx path.</param>
    /// <param name="externalData">Where tensor data goes.</param>
    /// <param name="cancellationToken">Stops the save before the files are moved into place.</param>
    public void Save(string path, ExternalDataMode externalData = ExternalDataMode.Auto, CancellationToken cancellationToken = default) =>
        OnnxModelFile.Save(Model, path, externalData, verify: true, cancellationToken);
}
