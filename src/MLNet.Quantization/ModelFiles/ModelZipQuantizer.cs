using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Transforms.Onnx;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.ModelFiles;

/// <summary>
/// Quantizes (or dequantizes) every ONNX model inside an ML.NET model zip and writes a zip that differs only in
/// those models. Static mode and GPTQ calibrate each model on the rows that reach it: the part of the pipeline
/// before its OnnxTransformer runs on the calibration data.
/// </summary>
internal static partial class ModelZipQuantizer
{
    /// <summary>Quantizes the models in <paramref name="input"/> into <paramref name="output"/>; both streams stay open.</summary>
    /// <param name="catalog">Loads the pipeline when calibration data has to flow through it.</param>
    /// <param name="input">A seekable stream holding the model zip.</param>
    /// <param name="source">The zip's name for messages.</param>
    /// <param name="output">Receives the new zip.</param>
    /// <param name="options">How to quantize each model.</param>
    /// <param name="calibrationData">Rows with the pipeline's input columns; needed by static mode and GPTQ.</param>
    /// <param name="progress">Receives progress from each model's quantization.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static IReadOnlyList<(EmbeddedOnnxModel Model, QuantizationReport Report)> Quantize(ModelOperationsCatalog catalog, Stream input, string source, Stream output,
        QuantizationOptions options, IDataView? calibrationData, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        bool needsData = options.Mode == QuantizationMode.Static && options.Calibration is null
            || options.Mode == QuantizationMode.WeightOnly && options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq;
        if (needsData && calibrationData is null)
            throw new ArgumentNullException(nameof(calibrationData), $"{(options.Mode == QuantizationMode.Static ? "Static quantization" : "GPTQ")} of an ML.NET model needs calibration data: rows with the pipeline's input columns (an IDataView, or a .idv/.csv file on the command line).");
        options.Validate();
        Calibration.CalibrationDevice.Resolve(options, needsData, new List<string>());
        using var zip = ModelZip.Open(input, source);
        var models = RequireModels(zip, source);
        ITransformer? pipeline = null;
        if (needsData)
        {
            input.Position = 0;
            pipeline = catalog.Load(input, out _);
        }
        try
        {
            return QuantizeModels(models, pipeline, input, source, output, options, calibrationData, progress, cancellationToken);
        }
        finally
        {
            (pipeline as IDisposable)?.Dispose();
        }
    }

    private static IReadOnlyList<(EmbeddedOnnxModel Model, QuantizationReport Report)> QuantizeModels(IReadOnlyList<EmbeddedOnnxModel> models, ITransformer? pipeline,
        Stream input, string source, Stream output, QuantizationOptions options, IDataView? calibrationData, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        var replacements = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var reports = new List<(EmbeddedOnnxModel, QuantizationReport)>();
        foreach (var model in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CalibrationData? calibration = null;
            if (pipeline is not null)
            {
                try
                {
                    var rows = RowsReaching(pipeline, model.TransformerFolder, calibrationData!)
                        ?? throw new NotSupportedException($"'{source}': the ONNX model in '{model.TransformerFolder}' is not in a transformer chain this tool can follow, so the rows that reach it cannot be computed for calibration. Use --mode dynamic or weight-only (RTN/HQQ), which need no data.");
                    calibration = DataViewCalibration.Create(rows, Onnx.Protos.ModelProto.Parser.ParseFrom(model.Bytes));
                }
                catch (Exception e) when (e is ArgumentOutOfRangeException or ArgumentException or FormatException or InvalidOperationException)
                {
                    throw new InvalidDataException($"The calibration rows do not fit the pipeline before '{model.TransformerFolder}': {e.Message}", e);
                }
            }
            var result = OnnxQuantizer.Quantize(model.Bytes, options, calibration, progress, cancellationToken);
            replacements[model.EntryName] = result.ToBytes();
            reports.Add((model, result.Report));
        }
        input.Position = 0;
        using var again = ModelZip.Open(input, source);
        ModelZip.Write(again, output, replacements);
        return reports;
    }

    /// <summary>Dequantizes every ONNX model in <paramref name="input"/> into <paramref name="output"/>; models that hold nothing quantized are copied as they are.</summary>
    public static IReadOnlyList<(EmbeddedOnnxModel Model, DequantizationReport? Report)> Dequantize(Stream input, string source, Stream output, CancellationToken cancellationToken)
    {
        using var zip = ModelZip.Open(input, source);
        var models = RequireModels(zip, source);
        var replacements = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var reports = new List<(EmbeddedOnnxModel, DequantizationReport?)>();
        foreach (var model in models)
        {
            if (OnnxDequantizer.TryRun(OnnxModelFile.Load(model.Bytes), null, cancellationToken) is { } done)
            {
                replacements[model.EntryName] = OnnxModelFile.ToBytes(done.Model);
                reports.Add((model, done.Report));
            }
            else reports.Add((model, null));
        }
        if (replacements.Count == 0) throw new InvalidOperationException($"'{source}': its ONNX models hold nothing quantized; there is nothing to dequantize.");
        input.Position = 0;
        using var again = ModelZip.Open(input, source);
        ModelZip.Write(again, output, replacements);
        return reports;
    }

    private static IReadOnlyList<EmbeddedOnnxModel> RequireModels(System.IO.Compression.ZipArchive zip, string source)
    {
        var models = ModelZip.ReadOnnxModels(zip, source);
        if (models.Count > 0) return models;
        if (zip.GetEntry("Model.key") is null && !zip.Entries.Any(e => e.FullName.EndsWith("/Model.key", StringComparison.Ordinal)))
            throw new InvalidDataException($"'{source}' is a zip but not an ML.NET model (no Model.key entries). Save the pipeline with mlContext.Model.Save.");
        var transformers = zip.Entries.Where(e => e.Name == "Model.key")
            .Select(e => ModelZip.LoaderSignature(zip, e.FullName)).Where(n => !string.IsNullOrEmpty(n)).Distinct().ToList();
        throw new InvalidDataException($"'{source}' is an ML.NET model without ONNX models (its transformers: {string.Join(", ", transformers)}), so there is nothing to quantize. Only the ONNX parts of a pipeline (ApplyOnnxModel, the DNN image featurizers, Model Builder's ONNX-based scenarios) can be quantized; TorchSharp-based models (Model Builder's text, sentence-similarity and object-detection scenarios) keep TorchSharp weights, not ONNX.");
    }

    /// <summary>
    /// The calibration rows as the transformer in <paramref name="folder"/> sees them: every transformer before it in
    /// each enclosing chain applied in turn. Null when the folder path does not follow chains to an OnnxTransformer.
    /// </summary>
    internal static IDataView? RowsReaching(ITransformer root, string folder, IDataView data)
    {
        var current = root;
        var view = data;
        foreach (var segment in folder.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == "TransformerChain") continue;
            var match = TransformIndex().Match(segment);
            if (!match.Success || current is not IEnumerable<ITransformer> chain) return null;
            var items = chain.ToList();
            int index = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (index >= items.Count) return null;
            for (int i = 0; i < index; i++) view = items[i].Transform(view);
            current = items[index];
        }
        return current is OnnxTransformer ? view : null;
    }

    [GeneratedRegex(@"^Transform_(\d+)$")]
    private static partial Regex TransformIndex();
}
