using System.Runtime.InteropServices;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// Tells whether two paths name the same file: the same full path after following symbolic links, or (on Linux
/// only, where struct stat starts with st_dev and st_ino on every architecture) the same device and inode, which also
/// catches hard links.
/// </summary>
internal static partial class FileIdentity
{
    /// <summary>True when both paths exist and are the same file, or are the same path.</summary>
    public static bool Same(string first, string second)
    {
        var a = Resolve(first);
        var b = Resolve(second);
        if (string.Equals(a, b, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)) return true;
        return Inode(a) is { } x && Inode(b) is { } y && x == y;
    }

    /// <summary>The full path with every symbolic link on the way followed (the path itself when it does not exist).</summary>
    public static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var target = File.ResolveLinkTarget(full, returnFinalTarget: true);
            return target is null ? full : Path.GetFullPath(target.FullName);
        }
        catch (IOException)
        {
            return full;
        }
    }

    private static (ulong Device, ulong Inode)? Inode(string path)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(path)) return null;
        var buffer = new byte[512];
        try
        {
            if (Stat(path, buffer) != 0) return null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
        // Linux (x86-64, arm64): st_dev is 8 bytes at 0, st_ino 8 bytes at 8.
        return (BitConverter.ToUInt64(buffer, 0), BitConverter.ToUInt64(buffer, 8));
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, [Out] byte[] buffer);
}
