using System.Globalization;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Appends tensor data to an external data stream at offsets aligned to <see cref="OnnxModelFile.ExternalDataAlignment"/>
/// (so ONNX Runtime can memory-map each tensor) and makes the tensor entries that point at it.
/// </summary>
internal sealed class ExternalDataWriter
{
    private readonly Stream _stream;
    private readonly string _location;

    /// <summary>Writes to <paramref name="stream"/>, which the entries will name <paramref name="location"/>.</summary>
    public ExternalDataWriter(Stream stream, string location) => (_stream, _location) = (stream, location);

    /// <summary>Bytes written so far, padding included.</summary>
    public long Length { get; private set; }

    /// <summary>Writes <paramref name="bytes"/> and returns an entry with <paramref name="tensor"/>'s name, type and dims that points at them.</summary>
    public TensorProto Append(TensorProto tensor, ReadOnlySpan<byte> bytes)
    {
        long aligned = (Length + OnnxModelFile.ExternalDataAlignment - 1) / OnnxModelFile.ExternalDataAlignment * OnnxModelFile.ExternalDataAlignment;
        if (aligned > Length) _stream.Write(new byte[aligned - Length]);
        _stream.Write(bytes);
        Length = aligned + bytes.Length;
        var reference = new TensorProto { Name = tensor.Name, DataType = tensor.DataType, DataLocation = TensorProto.Types.DataLocation.External };
        reference.Dims.AddRange(tensor.Dims);
        reference.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = _location });
        reference.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = aligned.ToString(CultureInfo.InvariantCulture) });
        reference.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(CultureInfo.InvariantCulture) });
        return reference;
    }
}
