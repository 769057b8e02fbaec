namespace ImageClassification;

/// <summary>Writes 24-bit uncompressed BMP files, which ML.NET's image loader reads; no imaging library needed.</summary>
internal static class BmpWriter
{
    /// <summary>Writes <paramref name="rgb"/> (row-major, top row first, 3 bytes per pixel) as a BMP.</summary>
    public static void Write(string path, int width, int height, byte[] rgb)
    {
        int stride = (width * 3 + 3) / 4 * 4;
        int imageBytes = stride * height;
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write((byte)'B');
        writer.Write((byte)'M');
        writer.Write(54 + imageBytes);
        writer.Write(0);
        writer.Write(54);
        writer.Write(40);
        writer.Write(width);
        writer.Write(height);
        writer.Write((short)1);
        writer.Write((short)24);
        writer.Write(0);
        writer.Write(imageBytes);
        writer.Write(2835);
        writer.Write(2835);
        writer.Write(0);
        writer.Write(0);
        var row = new byte[stride];
        for (int y = height - 1; y >= 0; y--)
        {
            for (int x = 0; x < width; x++)
            {
                int source = (y * width + x) * 3;
                row[x * 3] = rgb[source + 2];
                row[x * 3 + 1] = rgb[source + 1];
                row[x * 3 + 2] = rgb[source];
            }
            writer.Write(row);
        }
    }
}
