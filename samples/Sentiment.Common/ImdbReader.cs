using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Sentiment.Common;

/// <summary>
/// Reads the IMDB Large Movie Review Dataset in any of its usual forms: the <c>aclImdb</c> folder
/// (<c>train|test/pos|neg/*.txt</c>), the original <c>aclImdb_v1.tar.gz</c> (read in place, no extraction tool), or the
/// common CSV with a header <c>review,sentiment</c> (labels positive/negative; first half train, second half test).
/// </summary>
public static class ImdbReader
{
    /// <summary>Reads a folder, tarball or CSV, deciding by what the path is.</summary>
    public static ReviewDataset Read(string path)
    {
        if (Directory.Exists(path)) return ReadFolder(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IMDB data '{path}' was not found. Pass the aclImdb folder, aclImdb_v1.tar.gz or a review,sentiment CSV.");
        if (path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)) return ReadTarball(path);
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return ReadCsv(path);
        throw new InvalidDataException($"'{path}' is neither a folder, a .tar.gz nor a .csv; cannot tell how to read it.");
    }

    /// <summary>Reads <c>aclImdb</c> (the folder itself or one that contains it).</summary>
    public static ReviewDataset ReadFolder(string folder)
    {
        var root = Directory.Exists(Path.Combine(folder, "aclImdb")) ? Path.Combine(folder, "aclImdb") : folder;
        List<Review> Split(string split)
        {
            var reviews = new List<Review>();
            foreach (var (label, positive) in new[] { ("pos", true), ("neg", false) })
            {
                var directory = Path.Combine(root, split, label);
                if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"'{directory}' is missing: an aclImdb folder holds train/pos, train/neg, test/pos and test/neg.");
                foreach (var file in Directory.EnumerateFiles(directory, "*.txt").Order(StringComparer.Ordinal))
                    reviews.Add(new Review(Clean(File.ReadAllText(file, Encoding.UTF8)), positive));
            }
            return Interleave(reviews);
        }
        return new ReviewDataset(Split("train"), Split("test"), $"aclImdb folder {root}", false);
    }

    /// <summary>Reads <c>aclImdb_v1.tar.gz</c> entry by entry.</summary>
    public static ReviewDataset ReadTarball(string path)
    {
        var train = new List<Review>();
        var test = new List<Review>();
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        try
        {
            for (var entry = tar.GetNextEntry(); entry is not null; entry = tar.GetNextEntry())
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                var parts = entry.Name.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 3 || !parts[^1].EndsWith(".txt", StringComparison.Ordinal)) continue;
                var (split, label) = (parts[^3], parts[^2]);
                if (label is not ("pos" or "neg") || split is not ("train" or "test")) continue;
                using var reader = new StreamReader(entry.DataStream, Encoding.UTF8);
                (split == "train" ? train : test).Add(new Review(Clean(reader.ReadToEnd()), label == "pos"));
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"'{path}' is not a readable .tar.gz (truncated or corrupt): {e.Message}", e);
        }
        if (train.Count == 0 || test.Count == 0) throw new InvalidDataException($"'{path}' holds no aclImdb/train|test/pos|neg/*.txt reviews.");
        return new ReviewDataset(Interleave(train), Interleave(test), $"tarball {path}", false);
    }

    /// <summary>Reads a CSV with a <c>review,sentiment</c> header (RFC 4180 quoting).</summary>
    public static ReviewDataset ReadCsv(string path)
    {
        var rows = CsvRows(File.ReadAllText(path, Encoding.UTF8)).ToList();
        if (rows.Count == 0) throw new InvalidDataException($"'{path}' is empty.");
        var header = rows[0].Select(h => h.Trim().ToLowerInvariant()).ToList();
        int text = header.IndexOf("review"), label = header.IndexOf("sentiment");
        if (text < 0 || label < 0) throw new InvalidDataException($"'{path}' needs a header with 'review' and 'sentiment' columns; it has: {string.Join(", ", rows[0])}.");
        var reviews = new List<Review>();
        for (int i = 1; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.Count == 1 && row[0].Length == 0) continue;
            if (row.Count <= Math.Max(text, label)) throw new InvalidDataException($"'{path}' line {i + 1} has {row.Count} fields; expected at least {Math.Max(text, label) + 1}.");
            var value = row[label].Trim().ToLowerInvariant();
            bool positive = value switch
            {
                "positive" or "pos" or "1" => true,
                "negative" or "neg" or "0" => false,
                _ => throw new InvalidDataException($"'{path}' line {i + 1}: sentiment '{row[label]}' is not positive/negative."),
            };
            reviews.Add(new Review(Clean(row[text]), positive));
        }
        int half = reviews.Count / 2;
        return new ReviewDataset(reviews.Take(half).ToList(), reviews.Skip(half).ToList(), $"CSV {path}", false);
    }

    private static IEnumerable<List<string>> CsvRows(string content)
    {
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < content.Length; i++)
        {
            char c = content[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < content.Length && content[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && i + 1 < content.Length && content[i + 1] == '\n') i++;
                row.Add(field.ToString());
                field.Clear();
                yield return row;
                row = new List<string>();
            }
            else field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); yield return row; }
    }

    /// <summary>Replaces the HTML line breaks IMDB reviews carry with spaces, as the lab's standardization does.</summary>
    public static string Clean(string text) => text.Replace("<br />", " ", StringComparison.Ordinal).Replace("<br/>", " ", StringComparison.Ordinal);

    /// <summary>Alternates labels (pos, neg, pos, ...) so that any prefix is balanced.</summary>
    private static List<Review> Interleave(List<Review> reviews)
    {
        var positive = reviews.Where(r => r.Positive).ToList();
        var negative = reviews.Where(r => !r.Positive).ToList();
        var result = new List<Review>(reviews.Count);
        for (int i = 0; i < Math.Max(positive.Count, negative.Count); i++)
        {
            if (i < positive.Count) result.Add(positive[i]);
            if (i < negative.Count) result.Add(negative[i]);
        }
        return result;
    }
}
