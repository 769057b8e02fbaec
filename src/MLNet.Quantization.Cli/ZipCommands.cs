using System.IO.Compression;
using Microsoft.ML;
using MLNet.Quantization.ModelFiles;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary>quantize, dequantize and inspect for ML.NET model zips: the ONNX models inside change, nothing else does.</summary>
internal static class ZipCommands
{
    /// <summary>Quantizes the zip's ONNX models; <paramref name="calibration"/> is an .idv or .csv of pipeline input rows.</summary>
    public static int Quantize(FileInfo source, FileInfo destination, QuantizationOptions options, string? calibration, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var ml = new MLContext(seed: 1);
        IDataView? rows = null;
        if (calibration is not null)
        {
            using var stream = File.OpenRead(source.FullName);
            DataViewSchema inputSchema;
            try
            {
                (ml.Model.Load(stream, out inputSchema) as IDisposable)?.Dispose();
            }
            catch (Exception e) when (e is not (IOException or UnauthorizedAccessException))
            {
                throw new InvalidDataException($"'{source.FullName}' does not load as an ML.NET model ({e.Message}).", e);
            }
            rows = ZipCalibration.Load(ml, calibration, inputSchema);
        }
        var reports = LiveProgress.Run(error, progress => ModelZipFile.Quantize(ml.Model, source.FullName, destination.FullName, options, rows, progress, cancellationToken));
        foreach (var (model, report) in reports)
        {
            output.WriteLine($"{model.TransformerFolder}/{ModelZip.OnnxEntryName} ({model.Bytes.Length / 1024.0:F1} KiB):");
            output.Write(report.ToString());
        }
        output.WriteLine($"Wrote {destination.FullName} ({ModelFileSize.Describe(destination)}; input {ModelFileSize.Describe(source)}).");
        return CliApp.Success;
    }

    /// <summary>Dequantizes the zip's quantized ONNX models.</summary>
    public static int Dequantize(FileInfo source, FileInfo destination, TextWriter output, CancellationToken cancellationToken)
    {
        foreach (var (model, report) in ModelZipFile.Dequantize(source.FullName, destination.FullName, cancellationToken))
        {
            output.WriteLine($"{model.TransformerFolder}/{ModelZip.OnnxEntryName}: {(report is null ? "not quantized, kept" : "")}");
            if (report is not null) output.Write(report.ToString());
        }
        output.WriteLine($"Wrote {destination.FullName} ({ModelFileSize.Describe(destination)}; input {ModelFileSize.Describe(source)}).");
        return CliApp.Success;
    }

    /// <summary>The chain's transformers (folder and loader signature) and each embedded ONNX model's size, opsets and quantization.</summary>
    public static int Inspect(FileInfo file, TextWriter output)
    {
        using var stream = File.OpenRead(file.FullName);
        using var zip = ModelZip.Open(stream, file.FullName);
        var models = ModelZip.ReadOnnxModels(zip, file.FullName).ToDictionary(m => m.TransformerFolder, StringComparer.Ordinal);
        var keys = zip.Entries.Where(e => e.Name == "Model.key").ToList();
        if (keys.Count == 0) throw new InvalidDataException($"'{file.FullName}' is a zip but not an ML.NET model (no Model.key entries).");
        output.WriteLine($"ML.NET model: {file.FullName} ({ModelFileSize.Describe(file)}), {models.Count} ONNX model(s)");
        output.WriteLine("Transformers:");
        foreach (var key in keys)
        {
            var folder = key.FullName.Replace('\\', '/')[..^"Model.key".Length].TrimEnd('/');
            var signature = ModelZip.LoaderSignature(zip, key.FullName) ?? "?";
            output.WriteLine($"  {(folder.Length == 0 ? "(root)" : folder),-56} {signature}");
            if (!models.TryGetValue(folder, out var onnx)) continue;
            var model = OnnxModelFile.Load(onnx.Bytes);
            var summary = ModelSummary.Of(model);
            output.WriteLine($"    ONNX {onnx.Bytes.Length / 1024.0:F1} KiB, opsets {string.Join(", ", model.Proto.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}"))}, quantization: {summary.Format}");
        }
        return CliApp.Success;
    }
}
