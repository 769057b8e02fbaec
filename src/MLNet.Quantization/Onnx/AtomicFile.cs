namespace MLNet.Quantization.Onnx;

/// <summary>Writes files so that a reader never sees a partial file: write to a temporary name, then move.</summary>
internal static class AtomicFile
{
    /// <summary>Creates a temporary path in the same folder as <paramref name="finalPath"/>.</summary>
    public static string TemporaryPathFor(string finalPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(finalPath))!;
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $".{Path.GetFileName(finalPath)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Writes a file through <paramref name="write"/> into a temporary file and moves it into place.</summary>
    public static void Write(string finalPath, Action<Stream> write)
    {
        var temp = TemporaryPathFor(finalPath);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, finalPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
