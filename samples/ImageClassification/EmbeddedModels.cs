using System.Buffers.Binary;
using System.IO.Compression;

namespace ImageClassification;

/// <summary>
/// Reads the ONNX models inside an ML.NET model zip (the layout <c>mlnet-quantize inspect</c> shows): each
/// OnnxTransformer stores its model in an entry named <c>OnnxModel</c> as a 32-bit length and the ONNX bytes.
/// The lab uses it to time the ResNet18 part on its own.
/// </summary>
internal static class EmbeddedModels
{
    /// <summary>The largest ONNX model in the zip (ResNet18 in this pipeline).</summary>
    public static byte[] Largest(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var entry = zip.Entries.Where(e => e.Name == "OnnxModel").MaxBy(e => e.Length)
            ?? throw new InvalidDataException($"'{zipPath}' holds no ONNX model.");
        using var stream = entry.Open();
        Span<byte> prefix = stackalloc byte[4];
        stream.ReadExactly(prefix);
        var bytes = new byte[BinaryPrimitives.ReadInt32LittleEndian(prefix)];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
