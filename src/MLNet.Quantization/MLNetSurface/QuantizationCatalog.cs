using MLNet.Quantization;

namespace Microsoft.ML;

/// <summary>
/// ML.NET catalog methods that quantize an ONNX model inside a pipeline. They mirror
/// <c>ApplyOnnxModel</c>: the fitted transformer is ML.NET's own OnnxTransformer running the quantized model.
/// </summary>
public static class QuantizationCatalog
{
    /// <summary>
    /// Quantizes an ONNX model to dynamic-range INT8 and applies it; columns are named as the model's inputs and
    /// outputs.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path to the float ONNX model.</param>
    /// <param name="gpuDeviceId">GPU the model runs on and calibration (static, GPTQ) runs on, unless <see cref="QuantizationOptions.GpuDeviceId"/> says otherwise (needs Microsoft.ML.OnnxRuntime.Gpu); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    /// <example><code>var pipeline = mlContext.Transforms.Quantize("model.onnx");</code></example>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, string modelFile, int? gpuDeviceId = null, bool fallbackToCpu = false) =>
        Quantize(catalog, modelFile, new QuantizationOptions(), gpuDeviceId, fallbackToCpu);

    /// <summary>Quantizes an ONNX model with the given options and applies it; columns are named as the model's.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelFile">Path to the float ONNX model.</param>
    /// <param name="options">Quantization options.</param>
    /// <param name="gpuDeviceId">GPU the model and its calibration run on (see the first overload); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, string modelFile, QuantizationOptions options, int? gpuDeviceId = null, bool fallbackToCpu = false) =>
        Create(catalog, ReadModelFile(modelFile), options, null, null, gpuDeviceId, fallbackToCpu);

    /// <summary>Quantizes an ONNX model read from a stream and applies it; columns are named as the model's.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelBytes">A stream holding the float ONNX model; read to its end.</param>
    /// <param name="options">Quantization options; null for defaults.</param>
    /// <param name="gpuDeviceId">GPU the model and its calibration run on (see the first overload); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, Stream modelBytes, QuantizationOptions? options = null, int? gpuDeviceId = null, bool fallbackToCpu = false) =>
        Create(catalog, ReadStream(modelBytes), options, null, null, gpuDeviceId, fallbackToCpu);

    /// <summary>Quantizes a single-input, single-output ONNX model and applies it to the named columns.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The column to write, named as the model's output.</param>
    /// <param name="inputColumnName">The column to read, named as the model's input; null means the same as <paramref name="outputColumnName"/>.</param>
    /// <param name="modelFile">Path to the float ONNX model.</param>
    /// <param name="options">Quantization options; null for defaults.</param>
    /// <param name="gpuDeviceId">GPU the model and its calibration run on (see the first overload); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName, string modelFile, QuantizationOptions? options = null, int? gpuDeviceId = null, bool fallbackToCpu = false)
    {
        if (outputColumnName is null) throw new ArgumentNullException(nameof(outputColumnName));
        return Create(catalog, ReadModelFile(modelFile), options, new[] { outputColumnName }, new[] { inputColumnName ?? outputColumnName }, gpuDeviceId, fallbackToCpu);
    }

    /// <summary>Quantizes an ONNX model and applies it to the named columns.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnNames">Columns to write, named as the model's outputs.</param>
    /// <param name="inputColumnNames">Columns to read, named as the model's inputs.</param>
    /// <param name="modelFile">Path to the float ONNX model.</param>
    /// <param name="options">Quantization options; null for defaults.</param>
    /// <param name="gpuDeviceId">GPU the model and its calibration run on (see the first overload); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, string[] outputColumnNames, string[] inputColumnNames, string modelFile, QuantizationOptions? options = null, int? gpuDeviceId = null, bool fallbackToCpu = false) =>
        Create(catalog, ReadModelFile(modelFile), options, outputColumnNames ?? throw new ArgumentNullException(nameof(outputColumnNames)), inputColumnNames ?? throw new ArgumentNullException(nameof(inputColumnNames)), gpuDeviceId, fallbackToCpu);

    /// <summary>Quantizes an ONNX model read from a stream and applies it to the named columns.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnNames">Columns to write, named as the model's outputs.</param>
    /// <param name="inputColumnNames">Columns to read, named as the model's inputs.</param>
    /// <param name="modelBytes">A stream holding the float ONNX model; read to its end.</param>
    /// <param name="options">Quantization options; null for defaults.</param>
    /// <param name="gpuDeviceId">GPU the model and its calibration run on (see the first overload); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, string[] outputColumnNames, string[] inputColumnNames, Stream modelBytes, QuantizationOptions? options = null, int? gpuDeviceId = null, bool fallbackToCpu = false) =>
        Create(catalog, ReadStream(modelBytes), options, outputColumnNames ?? throw new ArgumentNullException(nameof(outputColumnNames)), inputColumnNames ?? throw new ArgumentNullException(nameof(inputColumnNames)), gpuDeviceId, fallbackToCpu);

    /// <summary>
    /// Quantizes an ONNX model whose inputs have dimensions unknown beyond the batch (e.g. a dynamic sequence length)
    /// and applies it to the named columns; <paramref name="shapeDictionary"/> gives those inputs' shapes, as in
    /// <c>ApplyOnnxModel</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnNames">Columns to write, named as the model's outputs.</param>
    /// <param name="inputColumnNames">Columns to read, named as the model's inputs.</param>
    /// <param name="modelFile">Path to the float ONNX model.</param>
    /// <param name="shapeDictionary">Input name → shape to use (e.g. { "input_ids": [1, 128] }).</param>
    /// <param name="options">Quantization options; null for defaults.</param>
    /// <param name="gpuDeviceId">GPU the model and its calibration run on (see the first overload); null for the MLContext's GpuDeviceId, else the CPU.</param>
    /// <param name="fallbackToCpu">Run on CPU if the GPU cannot be used.</param>
    public static OnnxQuantizingEstimator Quantize(this TransformsCatalog catalog, string[] outputColumnNames, string[] inputColumnNames, string modelFile, IDictionary<string, int[]> shapeDictionary, QuantizationOptions? options = null, int? gpuDeviceId = null, bool fallbackToCpu = false) =>
        Create(catalog, ReadModelFile(modelFile), options, outputColumnNames ?? throw new ArgumentNullException(nameof(outputColumnNames)), inputColumnNames ?? throw new ArgumentNullException(nameof(inputColumnNames)), gpuDeviceId, fallbackToCpu,
            shapeDictionary ?? throw new ArgumentNullException(nameof(shapeDictionary)));

    private static OnnxQuantizingEstimator Create(TransformsCatalog catalog, byte[] model, QuantizationOptions? options, string[]? outputs, string[]? inputs, int? gpuDeviceId, bool fallbackToCpu, IDictionary<string, int[]>? shapes = null)
    {
        if (catalog is null) throw new ArgumentNullException(nameof(catalog));
        options ??= new QuantizationOptions();
        options.Validate();
        if (outputs is not null && outputs.Length == 0) throw new ArgumentOutOfRangeException(nameof(outputs), "At least one output column name is needed.");
        if (inputs is not null && inputs.Length == 0) throw new ArgumentOutOfRangeException(nameof(inputs), "At least one input column name is needed.");
        MLNet.Quantization.Onnx.OnnxModelFile.Load(model);
        return new OnnxQuantizingEstimator(catalog, model, options, outputs, inputs, gpuDeviceId, fallbackToCpu, shapes);
    }

    private static byte[] ReadModelFile(string modelFile)
    {
        if (modelFile is null) throw new ArgumentNullException(nameof(modelFile));
        if (!File.Exists(modelFile)) throw new FileNotFoundException($"ONNX model file '{modelFile}' was not found.", modelFile);
        return File.ReadAllBytes(modelFile);
    }

    private static byte[] ReadStream(Stream modelBytes)
    {
        if (modelBytes is null) throw new ArgumentNullException(nameof(modelBytes));
        using var buffer = new MemoryStream();
        modelBytes.CopyTo(buffer);
        return buffer.ToArray();
    }
}
