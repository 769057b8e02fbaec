using Google.Protobuf;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>Loads and saves ONNX models: from paths, bytes or streams; atomic writes; external data.</summary>
public static class OnnxModelFile
{
    /// <summary>Tensors at least this large go to the data file when external data is written.</summary>
    public const int ExternalDataThresholdBytes = 1024;

    /// <summary>Offsets in the data file are aligned to this boundary so the runtime can memory-map them.</summary>
    public const int ExternalDataAlignment = 4096;

    /// <summary>Models whose tensor data exceeds this size are saved with external data in <see cref="ExternalDataMode.Auto"/>.</summary>
    public const long InlineLimitBytes = 2L * 1024 * 1024 * 1024 - 64L * 1024 * 1024;

    /// <summary>Loads a model file; its external data (if any) is read from the file's folder when needed.</summary>
    /// <param name="path">Path to an .onnx file.</param>
    public static OnnxModel Load(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' was not found.", path);
        var info = new FileInfo(path);
        if (info.Length == 0) throw new OnnxFormatException($"Model file '{path}' is empty. Export the model again.");
        if (info.Length > int.MaxValue) throw new OnnxFormatException($"Model file '{path}' is larger than 2 GiB; ONNX files that large must keep their weights in external data.");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Parse(() => ModelProto.Parser.ParseFrom(stream), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Loads a model from bytes. Models with external data must be loaded from a path instead.</summary>
    /// <param name="bytes">The serialized model.</param>
    public static OnnxModel Load(byte[] bytes)
    {
        if (bytes is null) throw new ArgumentNullException(nameof(bytes));
        if (bytes.Length == 0) throw new OnnxFormatException("The model bytes are empty.");
        return Parse(() => ModelProto.Parser.ParseFrom(bytes), "the given bytes", null);
    }

    /// <summary>Loads a model from a stream read to its end.</summary>
    /// <param name="stream">A readable stream holding a serialized model.</param>
    public static OnnxModel Load(Stream stream)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Load(buffer.ToArray());
    }

    /// <summary>
    /// Saves a model atomically: the file (and its data file) appear complete or not at all.
    /// </summary>
    /// <param name="model">The model to save; it is not modified.</param>
    /// <param name="path">Destination .onnx path.</param>
    /// <param name="externalData">Where tensor data goes.</param>
    public static void Save(OnnxModel model, string path, ExternalDataMode externalData = ExternalDataMode.Auto) =>
        Save(model, path, externalData, verify: false, CancellationToken.None);

    /// <summary>The progress stage reported once per initializer while a model's external data is written.</summary>
    internal const string WritingStage = "Writing tensors";

    /// <summary>The progress stage reported while ONNX Runtime loads the written model.</summary>
    internal const string VerifyingStage = "Verifying in ONNX Runtime";

    /// <summary>The data file written next to <paramref name="modelPath"/> when a model is saved with external data.</summary>
    internal static string DataPathFor(string modelPath) => Path.GetFullPath(modelPath) + ".data";

    /// <summary>
    /// Saves into a staging folder next to <paramref name="path"/>, optionally checks that ONNX Runtime loads the
    /// staged model, then moves the data file and the model into place. On any error or cancellation nothing is
    /// left behind. Leftovers of an earlier killed run for the same path are removed first.
    /// </summary>
    internal static void Save(OnnxModel model, string path, ExternalDataMode externalData, bool verify, CancellationToken cancellationToken, IProgress<QuantizationProgress>? progress = null)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (path is null) throw new ArgumentNullException(nameof(path));
        long dataBytes = EstimateTensorBytes(model.Proto);
        bool external = externalData == ExternalDataMode.Always || (externalData == ExternalDataMode.Auto && dataBytes > InlineLimitBytes);
        if (!external && dataBytes > InlineLimitBytes)
            throw new InvalidOperationException($"The model holds {dataBytes / (1 << 20)} MiB of tensor data, more than one ONNX file can hold (2 GiB). Save it with external data.");
        AtomicFile.RemoveLeftovers(path);
        var staging = AtomicFile.CreateStagingFolder(path);
        try
        {
            var fileName = Path.GetFileName(path);
            var stagedModel = Path.Combine(staging, fileName);
            var stagedData = Path.Combine(staging, fileName + ".data");
            if (external)
            {
                ModelProto withReferences = null!;
                AtomicFile.WriteFile(stagedData, stream => withReferences = WithExternalData(model, stream, fileName + ".data", progress));
                cancellationToken.ThrowIfCancellationRequested();
                AtomicFile.WriteFile(stagedModel, stream => withReferences.WriteTo(stream));
            }
            else
            {
                var inline = WithInlineData(model);
                AtomicFile.WriteFile(stagedModel, stream => inline.WriteTo(stream));
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (verify)
            {
                progress?.Report(new QuantizationProgress(VerifyingStage, 0, 1));
                ModelVerifier.VerifyOutput(stagedModel, packWeights: dataBytes <= ModelVerifier.PackedVerificationLimitBytes);
                progress?.Report(new QuantizationProgress(VerifyingStage, 1, 1));
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (external) File.Move(stagedData, DataPathFor(path), overwrite: true);
            File.Move(stagedModel, path, overwrite: true);
        }
        finally
        {
            AtomicFile.DeleteFolder(staging);
        }
    }

    /// <summary>Serializes a model to bytes, reading any external data into the message.</summary>
    /// <param name="model">The model; it must fit in one protobuf message (under 2 GiB).</param>
    public static byte[] ToBytes(OnnxModel model)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (EstimateTensorBytes(model.Proto) > InlineLimitBytes)
            throw new InvalidOperationException("The model is larger than 2 GiB and cannot be held in one buffer; save it to a file with external data.");
        return WithInlineData(model).ToByteArray();
    }

    /// <summary>The total bytes of tensor data held by the graph's initializers.</summary>
    internal static long EstimateTensorBytes(ModelProto model)
    {
        long total = 0;
        foreach (var tensor in model.Graph?.Initializer ?? new Google.Protobuf.Collections.RepeatedField<TensorProto>())
            total += TensorData.ElementCount(tensor) * Math.Max(1, ElementType.SizeOf(tensor.DataType));
        return total;
    }

    private static OnnxModel Parse(Func<ModelProto> parse, string source, string? baseDirectory)
    {
        ModelProto proto;
        try
        {
            proto = parse();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException($"'{source}' is not a valid ONNX model ({e.Message}). The file may be truncated or not an ONNX file.", e);
        }
        if (proto.Graph is null || (proto.Graph.Node.Count == 0 && proto.Graph.Output.Count == 0))
            throw new OnnxFormatException($"'{source}' has no graph. It is not an ONNX model, or it is truncated.");
        if (proto.IrVersion <= 0)
            throw new OnnxFormatException($"'{source}' has no IR version. It is not an ONNX model, or it is truncated.");
        var model = new OnnxModel(proto, baseDirectory);
        GraphValidator.Validate(model, source);
        return model;
    }

    private static ModelProto WithInlineData(OnnxModel model)
    {
        bool anyExternal = model.Graph.Initializer.Any(ExternalDataReference.IsExternal);
        if (!anyExternal) return model.Proto;
        var copy = model.Proto.Clone();
        var initializers = copy.Graph.Initializer;
        for (int i = 0; i < initializers.Count; i++)
        {
            var tensor = initializers[i];
            if (!ExternalDataReference.IsExternal(tensor)) continue;
            var bytes = model.ReadTensorBytes(model.Graph.Initializer[i]).ToArray();
            initializers[i] = TensorData.FromBytes(tensor.Name, tensor.Dims, (TensorProto.Types.DataType)tensor.DataType, bytes);
        }
        return copy;
    }

    private static ModelProto WithExternalData(OnnxModel model, Stream dataStream, string dataFileName, IProgress<QuantizationProgress>? progress)
    {
        var copy = model.Proto.Clone();
        var initializers = copy.Graph.Initializer;
        var writer = new ExternalDataWriter(dataStream, dataFileName);
        for (int i = 0; i < initializers.Count; i++)
        {
            var tensor = initializers[i];
            var bytes = model.ReadTensorBytes(model.Graph.Initializer[i]);
            if (bytes.Length < ExternalDataThresholdBytes)
            {
                if (ExternalDataReference.IsExternal(tensor))
                    initializers[i] = TensorData.FromBytes(tensor.Name, tensor.Dims, (TensorProto.Types.DataType)tensor.DataType, bytes.ToArray());
            }
            else
            {
                initializers[i] = writer.Append(tensor, bytes.Span);
            }
            GarbageBound.Check();
            progress?.Report(new QuantizationProgress(WritingStage, i + 1, initializers.Count));
        }
        return copy;
    }
}
