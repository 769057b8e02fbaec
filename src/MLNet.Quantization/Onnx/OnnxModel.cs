using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// An ONNX model held in memory together with the folder its external data (if any) is read from.
/// Tensors whose data lives in external files stay there until they are read, so a loaded model costs memory
/// for its inline data only.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Wraps a model message; external data locations are relative to <paramref name="baseDirectory"/>.</summary>
    internal OnnxModel(ModelProto proto, string? baseDirectory = null)
    {
        Proto = proto ?? throw new ArgumentNullException(nameof(proto));
        BaseDirectory = baseDirectory;
    }

    /// <summary>
    /// Where large initializers added by a rewrite go instead of memory; null to keep them in memory. Set it only for
    /// the final rewrite: ONNX Runtime cannot read a spilled tensor, so a model that is still to be run (calibration,
    /// tuning) must not hold one.
    /// </summary>
    internal TensorSpill? Spill { get; set; }

    /// <summary>The model message.</summary>
    internal ModelProto Proto { get; }

    /// <summary>The folder external data locations are relative to; null for a model loaded from memory.</summary>
    public string? BaseDirectory { get; }

    /// <summary>The main graph.</summary>
    internal GraphProto Graph => Proto.Graph;

    /// <summary>
    /// The little-endian bytes of a tensor's data in the layout of <c>raw_data</c>, wherever the data is stored
    /// (raw_data, typed fields or an external file).
    /// </summary>
    internal ReadOnlyMemory<byte> ReadTensorBytes(TensorProto tensor) => TensorData.ReadBytes(tensor, BaseDirectory);

    /// <summary>The tensor's values converted to float (for float, double, float16-free numeric types).</summary>
    internal float[] ReadFloats(TensorProto tensor) => TensorData.ReadFloats(tensor, BaseDirectory);

    /// <summary>The tensor's values as 64-bit integers (for int8..int64, uint8..uint64 and bool).</summary>
    internal long[] ReadInt64s(TensorProto tensor) => TensorData.ReadInt64s(tensor, BaseDirectory);
}
