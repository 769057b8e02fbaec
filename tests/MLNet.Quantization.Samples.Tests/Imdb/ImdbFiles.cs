using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace MLNet.Quantization.Tests.Imdb;

/// <summary>Small IMDB-layout data written by the tests: folders, tarballs and CSVs.</summary>
internal static class ImdbFiles
{
    public static readonly (string Split, string Label, string Name, string Text)[] Reviews =
    {
        ("train", "pos", "0_9.txt", "A wonderful film.<br />Loved it."),
        ("train", "neg", "1_2.txt", "Dull and far too long."),
        ("train", "pos", "2_8.txt", "Great acting, \"superb\" score."),
        ("test", "pos", "0_10.txt", "Brilliant from start to end."),
        ("test", "neg", "1_1.txt", "Awful, just awful."),
    };

    public static string WriteFolder(string root)
    {
        foreach (var (split, label, name, text) in Reviews)
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, "aclImdb", split, label)).FullName;
            File.WriteAllText(Path.Combine(folder, name), text, Encoding.UTF8);
        }
        Directory.CreateDirectory(Path.Combine(root, "aclImdb", "test", "neg"));
        return Path.Combine(root, "aclImdb");
    }

    public static byte[] Tarball()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "aclImdb/"));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "aclImdb/README") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("readme")) });
            foreach (var (split, label, name, text) in Reviews)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"aclImdb/{split}/{label}/{name}") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        }
        return buffer.ToArray();
    }

    public static string Csv() =>
        "review,sentiment\n" + string.Join("\n", Reviews.Select(r => $"\"{r.Text.Replace("\"", "\"\"")}\",{(r.Label == "pos" ? "positive" : "negative")}")) + "\n";
}
