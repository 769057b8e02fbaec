using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MLNet.Quantization.ModelFiles;

/// <summary>
/// Reads and rewrites the ONNX models inside an ML.NET model zip (<c>mlContext.Model.Save</c>). Each OnnxTransformer
/// keeps its model in an entry named <c>OnnxModel</c> next to its <c>Model.key</c> (whose loader signature is
/// <c>OnnxTransform</c>), as a 32-bit little-endian length followed by the ONNX bytes; no other entry refers to its
/// size, so replacing the bytes leaves a zip stock ML.NET loads. Every other entry is copied unchanged.
/// </summary>
internal static class ModelZip
{
    /// <summary>The entry name ML.NET's OnnxTransformer stores its model under.</summary>
    public const string OnnxEntryName = "OnnxModel";

    /// <summary>The loader signature in an OnnxTransformer's <c>Model.key</c>.</summary>
    public const string OnnxLoaderSignature = "OnnxTransform";

    /// <summary>Offset and length of the loader signature in an ML.NET model header.</summary>
    private const int LoaderSignatureOffset = 80, LoaderSignatureLength = 24;

    /// <summary>Whether the file starts like a zip archive.</summary>
    public static bool LooksLikeZip(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4;
    }

    /// <summary>Opens a model zip, with one clear error when it is not a readable zip.</summary>
    public static ZipArchive Open(Stream stream, string source)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{source}' is not a readable zip ({e.Message}). An ML.NET model file is the zip mlContext.Model.Save writes; the file may be truncated.", e);
        }
    }

    /// <summary>Every ONNX model the zip's OnnxTransformers hold, in entry order.</summary>
    public static IReadOnlyList<EmbeddedOnnxModel> ReadOnnxModels(ZipArchive zip, string source)
    {
        var models = new List<EmbeddedOnnxModel>();
        foreach (var entry in zip.Entries)
        {
            var name = entry.FullName.Replace('\\', '/');
            if (name != OnnxEntryName && !name.EndsWith("/" + OnnxEntryName, StringComparison.Ordinal)) continue;
            var folder = name.Length == OnnxEntryName.Length ? "" : name[..^(OnnxEntryName.Length + 1)];
            var key = entry.FullName[..^OnnxEntryName.Length] + "Model.key";
            if (LoaderSignature(zip, key) != OnnxLoaderSignature) continue;
            models.Add(new EmbeddedOnnxModel(entry.FullName, folder, ReadModelBytes(entry, source)));
        }
        return models;
    }

    /// <summary>The loader signature in the model header of entry <paramref name="keyEntryName"/>, or null when it is missing or too short.</summary>
    public static string? LoaderSignature(ZipArchive zip, string keyEntryName)
    {
        var key = zip.GetEntry(keyEntryName);
        if (key is null) return null;
        var header = new byte[LoaderSignatureOffset + LoaderSignatureLength];
        using var stream = key.Open();
        int read = 0;
        while (read < header.Length && stream.Read(header, read, header.Length - read) is > 0 and var n) read += n;
        if (read < header.Length) return null;
        var text = Encoding.ASCII.GetString(header, LoaderSignatureOffset, LoaderSignatureLength);
        int end = text.IndexOf('\0');
        return end < 0 ? text : text[..end];
    }

    /// <summary>
    /// Copies <paramref name="zip"/> into <paramref name="output"/>, replacing the models whose entry names are keys of
    /// <paramref name="replacements"/>.
    /// </summary>
    public static void Write(ZipArchive zip, Stream output, IReadOnlyDictionary<string, byte[]> replacements)
    {
        using var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Span<byte> length = stackalloc byte[4];
        foreach (var entry in zip.Entries)
        {
            var copy = target.CreateEntry(entry.FullName, CompressionLevel.Optimal);
            copy.LastWriteTime = entry.LastWriteTime;
            using var destination = copy.Open();
            if (replacements.TryGetValue(entry.FullName, out var model))
            {
                BinaryPrimitives.WriteInt32LittleEndian(length, model.Length);
                destination.Write(length);
                destination.Write(model);
            }
            else
            {
                using var source = entry.Open();
                source.CopyTo(destination);
            }
        }
    }

    private static byte[] ReadModelBytes(ZipArchiveEntry entry, string source)
    {
        try
        {
            using var stream = entry.Open();
            Span<byte> prefix = stackalloc byte[4];
            stream.ReadExactly(prefix);
            int length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
            if (length <= 0 || length != entry.Length - 4)
                throw new InvalidDataException($"'{source}': entry '{entry.FullName}' says it holds {length} bytes of ONNX model but has {entry.Length - 4}. The zip is damaged.");
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{source}': entry '{entry.FullName}' ends early. The zip is truncated or damaged.", e);
        }
    }
}
