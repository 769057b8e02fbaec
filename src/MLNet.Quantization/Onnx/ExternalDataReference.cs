using System.Globalization;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>The parsed <c>external_data</c> entries of a tensor: file location, offset and length.</summary>
internal sealed record ExternalDataReference(string Location, long Offset, long? Length)
{
    /// <summary>Keys ONNX Runtime accepts in <c>external_data</c>; any other key makes it reject the model.</summary>
    private static readonly HashSet<string> KnownKeys = new(StringComparer.Ordinal) { "location", "offset", "length", "checksum" };

    /// <summary>Whether the tensor keeps its data outside the model file.</summary>
    public static bool IsExternal(TensorProto tensor) => tensor.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>Reads and validates the external data entries of a tensor.</summary>
    public static ExternalDataReference Parse(TensorProto tensor)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var entry in tensor.ExternalData)
        {
            if (!KnownKeys.Contains(entry.Key))
                throw new OnnxFormatException($"Tensor '{tensor.Name}' has an unknown external_data key '{entry.Key}'. Only location, offset, length and checksum are allowed.");
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseNumber(tensor, entry); break;
                case "length": length = ParseNumber(tensor, entry); break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new OnnxFormatException($"Tensor '{tensor.Name}' is marked EXTERNAL but has no 'location' entry.");
        return new ExternalDataReference(location, offset, length);
    }

    /// <summary>Resolves the location against the model folder, refusing paths that escape it.</summary>
    public string ResolvePath(string baseDirectory, string tensorName)
    {
        if (Path.IsPathRooted(Location))
            throw new OnnxFormatException($"Tensor '{tensorName}' points to external data at an absolute path '{Location}'. External data locations must be relative to the model's folder.");
        var root = Path.GetFullPath(baseDirectory);
        var full = Path.GetFullPath(Path.Combine(root, Location));
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
            throw new OnnxFormatException($"Tensor '{tensorName}' points to external data '{Location}', which is outside the model's folder '{root}'. Move the data file next to the model.");
        return full;
    }

    private static long ParseNumber(TensorProto tensor, StringStringEntryProto entry)
    {
        if (!long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            throw new OnnxFormatException($"Tensor '{tensor.Name}' has external_data {entry.Key} '{entry.Value}', which is not a non-negative whole number.");
        return value;
    }
}
