using Microsoft.ML.OnnxRuntime;

namespace MLNet.Quantization.Onnx;

/// <summary>ONNX Runtime is the judge of a model: the input must load before work starts, the output before it is kept.</summary>
internal static class ModelVerifier
{
    /// <summary>Throws <see cref="OnnxFormatException"/> with ONNX Runtime's message when the input model does not load.</summary>
    /// <param name="model">The parsed input.</param>
    /// <param name="path">The file it came from, loaded by ONNX Runtime directly; null for models from memory.</param>
    /// <param name="bytes">The serialized model when the caller has it, so it is not serialized again; null otherwise.</param>
    public static void VerifyInput(OnnxModel model, string? path, byte[]? bytes = null)
    {
        bool external = model.Graph.Initializer.Any(ExternalDataReference.IsExternal);
        if (external && path is null && model.BaseDirectory is null) return;
        if (!external || path is null)
        {
            if (OnnxModelFile.EstimateTensorBytes(model.Proto) > OnnxModelFile.InlineLimitBytes) return;
        }
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
            options.AddSessionConfigEntry(DisablePrepacking, "1");
            using var session = path is not null ? new InferenceSession(path, options) : new InferenceSession(bytes ?? OnnxModelFile.ToBytes(model), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxFormatException($"The input model is not valid: {Clean(e.Message)} Fix or re-export the model; ONNX Runtime must be able to load it before it can be quantized.", e);
        }
    }

    /// <summary>
    /// Checks a model file in ONNX Runtime before this project parses it, so ONNX Runtime's copy of the weights is
    /// freed before the quantizer holds its own. When ONNX Runtime rejects the file, the project's parser is tried
    /// first so a file that is not ONNX at all (empty, truncated) gets its plainer message.
    /// </summary>
    public static void VerifyInputFile(string path)
    {
        if (!File.Exists(path)) return;
        try
        {
            using (var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 })
            {
                options.AddSessionConfigEntry(DisablePrepacking, "1");
                using (new InferenceSession(path, options))
                {
                }
            }
            NativeMemory.Trim();
        }
        catch (OnnxRuntimeException e)
        {
            OnnxModelFile.Load(path);
            throw new OnnxFormatException($"The input model is not valid: {Clean(e.Message)} Fix or re-export the model; ONNX Runtime must be able to load it before it can be quantized.", e);
        }
    }

    /// <summary>
    /// Outputs with more tensor data than this are verified without weight pre-packing: ONNX Runtime would otherwise
    /// make a packed copy of every weight just to be thrown away, doubling the run's peak memory on large models.
    /// </summary>
    public const long PackedVerificationLimitBytes = 256L * 1024 * 1024;

    /// <summary>Throws <see cref="InvalidOperationException"/> when the written model at <paramref name="path"/> does not load with every optimization on.</summary>
    /// <param name="path">The written model.</param>
    /// <param name="packWeights">Whether kernels pre-pack their weights as in a real session (also checks the packing); off for large models.</param>
    public static void VerifyOutput(string path, bool packWeights = true)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
            if (!packWeights) options.AddSessionConfigEntry(DisablePrepacking, "1");
            using var session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"Internal error: the written model does not load in ONNX Runtime ({Clean(e.Message)}); nothing was written. When quantizing, exclude the node it names (--exclude-nodes); either way, please report the model.", e);
        }
        finally
        {
            NativeMemory.Trim();
        }
    }

    /// <summary>ONNX Runtime's session option that keeps kernels from making packed copies of their weights.</summary>
    private const string DisablePrepacking = "session.disable_prepacking";

    private static string Clean(string message)
    {
        var text = message.Trim();
        return text.EndsWith('.') ? text : text + ".";
    }
}
