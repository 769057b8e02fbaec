using System.Text.RegularExpressions;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Writes files so that a reader never sees a partial file: everything is written into a hidden staging folder
/// next to the destination (<c>.NAME.&lt;guid&gt;.tmp</c>), checked, then moved into place. Staging folders a killed
/// run left behind are removed by the next write of the same file.
/// </summary>
internal static partial class AtomicFile
{
    /// <summary>Creates an empty staging folder next to <paramref name="finalPath"/>.</summary>
    public static string CreateStagingFolder(string finalPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(finalPath))!;
        Directory.CreateDirectory(folder);
        var staging = Path.Combine(folder, $".{Path.GetFileName(finalPath)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        return staging;
    }

    /// <summary>Staging entries younger than this may belong to a run still writing the same output, and are left alone.</summary>
    public static readonly TimeSpan LeftoverAge = TimeSpan.FromMinutes(2);

    /// <summary>Removes staging folders and temporary files an earlier, killed run left for <paramref name="finalPath"/> (older than <see cref="LeftoverAge"/>).</summary>
    /// <returns>How many were removed.</returns>
    public static int RemoveLeftovers(string finalPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(finalPath))!;
        if (!Directory.Exists(folder)) return 0;
        var name = Path.GetFileName(finalPath);
        int removed = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, $".{name}*.tmp"))
        {
            var match = LeftoverName().Match(Path.GetFileName(entry));
            if (!match.Success || (match.Groups[1].Value != name && match.Groups[1].Value != name + ".data")) continue;
            if (TensorSpill.IsOpenFolder(entry)) continue;
            var written = Directory.Exists(entry) ? Directory.GetLastWriteTimeUtc(entry) : File.GetLastWriteTimeUtc(entry);
            if (DateTime.UtcNow - written < LeftoverAge) continue;
            try
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process still holds it, or it is not ours to delete; it is left alone.
            }
        }
        return removed;
    }

    /// <summary>Writes a single file through <paramref name="write"/> into a staging folder and moves it into place.</summary>
    public static void Write(string finalPath, Action<Stream> write)
    {
        var staging = CreateStagingFolder(finalPath);
        try
        {
            var temp = Path.Combine(staging, Path.GetFileName(finalPath));
            WriteFile(temp, write);
            File.Move(temp, finalPath, overwrite: true);
        }
        finally
        {
            DeleteFolder(staging);
        }
    }

    /// <summary>Creates <paramref name="path"/>, writes it and flushes it to disk.</summary>
    public static void WriteFile(string path, Action<Stream> write)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        write(stream);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Deletes a staging folder and what is left in it; never throws.</summary>
    public static void DeleteFolder(string staging)
    {
        try
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex(@"^\.(.+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex LeftoverName();
}
