using Microsoft.ML;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.ModelFiles;

/// <summary>Model zips on disk: the input is read once and never modified; the output appears complete or not at all.</summary>
internal static class ModelZipFile
{
    /// <summary>Quantizes the ONNX models of the zip at <paramref name="inputPath"/> into a new zip at <paramref name="outputPath"/>.</summary>
    public static IReadOnlyList<(EmbeddedOnnxModel Model, QuantizationReport Report)> Quantize(ModelOperationsCatalog catalog, string inputPath, string outputPath,
        QuantizationOptions options, IDataView? calibrationData, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        using var input = Read(inputPath, outputPath);
        IReadOnlyList<(EmbeddedOnnxModel, QuantizationReport)> reports = Array.Empty<(EmbeddedOnnxModel, QuantizationReport)>();
        AtomicFile.RemoveLeftovers(outputPath);
        AtomicFile.Write(outputPath, output =>
        {
            reports = ModelZipQuantizer.Quantize(catalog, input, inputPath, output, options, calibrationData, progress, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
        });
        return reports;
    }

    /// <summary>Dequantizes the ONNX models of the zip at <paramref name="inputPath"/> into a new zip at <paramref name="outputPath"/>.</summary>
    public static IReadOnlyList<(EmbeddedOnnxModel Model, DequantizationReport? Report)> Dequantize(string inputPath, string outputPath, CancellationToken cancellationToken)
    {
        using var input = Read(inputPath, outputPath);
        IReadOnlyList<(EmbeddedOnnxModel, DequantizationReport?)> reports = Array.Empty<(EmbeddedOnnxModel, DequantizationReport?)>();
        AtomicFile.RemoveLeftovers(outputPath);
        AtomicFile.Write(outputPath, output => reports = ModelZipQuantizer.Dequantize(input, inputPath, output, cancellationToken));
        return reports;
    }

    /// <summary>The whole input zip in memory (the output may not be the input, also through a link).</summary>
    private static MemoryStream Read(string inputPath, string outputPath)
    {
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"Model file '{inputPath}' was not found.", inputPath);
        if (File.Exists(outputPath) && FileIdentity.Same(inputPath, outputPath))
            throw new ArgumentException($"The output '{outputPath}' is the input model; write the quantized model to another file.", nameof(outputPath));
        return new MemoryStream(File.ReadAllBytes(inputPath), writable: false);
    }
}
