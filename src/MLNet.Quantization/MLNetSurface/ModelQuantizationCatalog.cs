using MLNet.Quantization;
using MLNet.Quantization.ModelFiles;

namespace Microsoft.ML;

/// <summary>
/// Quantizes fitted ML.NET models: every ONNX model inside the pipeline (ApplyOnnxModel, the DNN image featurizers)
/// is quantized, and everything else in the chain stays as it was.
/// </summary>
public static class ModelQuantizationCatalog
{
    /// <summary>
    /// Returns <paramref name="model"/> with each ONNX model inside it quantized: the same transformers and schema,
    /// smaller and faster ONNX models. Static mode (and GPTQ) calibrates each ONNX model on the rows that reach it,
    /// computed by running the part of the pipeline before it on <paramref name="calibrationData"/>.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline holding at least one OnnxTransformer.</param>
    /// <param name="inputSchema">The schema of the pipeline's input (as given to <c>mlContext.Model.Save</c>).</param>
    /// <param name="options">How to quantize; null for dynamic INT8.</param>
    /// <param name="calibrationData">Representative rows with the pipeline's input columns; required by static mode and GPTQ.</param>
    /// <returns>The quantized pipeline; save it with <c>mlContext.Model.Save</c> as usual.</returns>
    /// <example><code>var small = mlContext.Model.Quantize(model, data.Schema, new QuantizationOptions { Mode = QuantizationMode.Static }, calibrationRows);</code></example>
    /// <exception cref="System.IO.InvalidDataException">The pipeline holds no ONNX model.</exception>
    /// <exception cref="NotSupportedException">A part of the pipeline cannot be saved or loaded (an unregistered custom mapping); the message names it.</exception>
    public static ITransformer Quantize(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, QuantizationOptions? options = null, IDataView? calibrationData = null)
    {
        if (catalog is null) throw new ArgumentNullException(nameof(catalog));
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (inputSchema is null) throw new ArgumentNullException(nameof(inputSchema));
        options ??= new QuantizationOptions();
        options.Validate();
        using var saved = new MemoryStream();
        try
        {
            catalog.Save(model, inputSchema, saved);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new NotSupportedException($"The pipeline cannot be saved, so its ONNX models cannot be rewritten: {e.Message} A CustomMapping needs a contract name and a registered factory (mlContext.ComponentCatalog.RegisterAssembly) to be saved and loaded.", e);
        }
        saved.Position = 0;
        using var quantized = new MemoryStream();
        ModelZipQuantizer.Quantize(catalog, saved, "the fitted model", quantized, options, calibrationData, null, CancellationToken.None);
        quantized.Position = 0;
        try
        {
            return catalog.Load(quantized, out _);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new NotSupportedException($"The quantized pipeline does not load back: {e.Message} A transformer whose assembly is not registered (mlContext.ComponentCatalog.RegisterAssembly) cannot be rebuilt.", e);
        }
    }
}
