using System.Buffers.Binary;
using System.Text.Json;

namespace TinyBert.Encoder;

/// <summary>One tensor read from a safetensors file, converted to float32.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Values">Its values, row-major.</param>
public sealed record NamedTensor(string Name, long[] Shape, float[] Values);

/// <summary>
/// Reads the safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
/// its dtype, shape and [begin, end) byte offsets into the data that follows. F32, F16 and BF16 are read (as float).
/// </summary>
public static class SafetensorsFile
{
    /// <summary>Reads every tensor of the file.</summary>
    public static Dictionary<string, NamedTensor> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"'{path}' is too short to be a safetensors file.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength == 0 || headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"'{path}' declares a {headerLength}-byte header but holds {bytes.Length} bytes: not a safetensors file, or truncated.");
        int dataStart = 8 + (int)headerLength;
        using var header = ParseHeader(path, bytes.AsSpan(8, (int)headerLength));
        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString() ?? "";
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            int width = dtype switch
            {
                "F32" => 4,
                "F16" or "BF16" => 2,
                _ => throw new InvalidDataException($"'{path}': tensor '{entry.Name}' has dtype {dtype}; F32, F16 and BF16 are supported."),
            };
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > bytes.Length)
                throw new InvalidDataException($"'{path}': tensor '{entry.Name}' has data offsets [{string.Join(", ", offsets)}] outside the file's {bytes.Length - dataStart} data bytes (truncated file?).");
            if (offsets[1] - offsets[0] != count * width)
                throw new InvalidDataException($"'{path}': tensor '{entry.Name}' of shape [{string.Join(",", shape)}] {dtype} needs {count * width} bytes, its offsets give {offsets[1] - offsets[0]}.");
            var data = bytes.AsSpan(dataStart + (int)offsets[0], (int)(count * width));
            tensors[entry.Name] = new NamedTensor(entry.Name, shape, Convert(data, dtype, (int)count));
        }
        return tensors;
    }

    private static JsonDocument ParseHeader(string path, ReadOnlySpan<byte> json)
    {
        try
        {
            var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{path}': the safetensors header is not a JSON object.");
            return document;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}': the safetensors header is not valid JSON ({e.Message}).", e);
        }
    }

    private static float[] Convert(ReadOnlySpan<byte> data, string dtype, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(data.Slice(i * 4, 4)),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(data.Slice(i * 2, 2)),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(i * 2, 2)) << 16),
            };
        }
        return values;
    }
}
