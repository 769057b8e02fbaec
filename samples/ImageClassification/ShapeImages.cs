namespace ImageClassification;

/// <summary>One labelled image file.</summary>
public sealed class ImageRow
{
    /// <summary>The image file, relative to the images folder.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>The shape drawn in it.</summary>
    public string Label { get; set; } = "";
}

/// <summary>
/// The sample's built-in image set: shapes (circle, square, triangle, ring) drawn at random sizes, positions and
/// colours on noisy backgrounds, seeded, 96×96 BMP files. No download: the lab runs anywhere.
/// </summary>
internal static class ShapeImages
{
    /// <summary>The classes.</summary>
    public static readonly string[] Classes = { "circle", "square", "triangle", "ring" };

    private const int Size = 96;

    /// <summary>Writes <paramref name="perClass"/> images of each class into <paramref name="folder"/> with file names starting with <paramref name="prefix"/>.</summary>
    public static List<ImageRow> Write(string folder, string prefix, int perClass, int seed)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var rows = new List<ImageRow>();
        for (int i = 0; i < perClass; i++)
        {
            foreach (var label in Classes)
            {
                var name = $"{prefix}-{label}-{i:000}.bmp";
                BmpWriter.Write(Path.Combine(folder, name), Size, Size, Draw(label, random));
                rows.Add(new ImageRow { ImagePath = name, Label = label });
            }
        }
        return rows;
    }

    private static byte[] Draw(string label, Random random)
    {
        var pixels = new byte[Size * Size * 3];
        var background = RandomColor(random);
        var foreground = RandomColor(random);
        while (Math.Abs(foreground[0] - background[0]) + Math.Abs(foreground[1] - background[1]) + Math.Abs(foreground[2] - background[2]) < 180)
            foreground = RandomColor(random);
        double radius = 14 + random.NextDouble() * 22;
        double cx = radius + random.NextDouble() * (Size - 2 * radius), cy = radius + random.NextDouble() * (Size - 2 * radius);
        double angle = random.NextDouble() * Math.PI * 2;
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                bool inside = Inside(label, x - cx, y - cy, radius, angle);
                var color = inside ? foreground : background;
                for (int c = 0; c < 3; c++)
                    pixels[(y * Size + x) * 3 + c] = (byte)Math.Clamp(color[c] + random.Next(-24, 25), 0, 255);
            }
        }
        return pixels;
    }

    private static bool Inside(string label, double dx, double dy, double radius, double angle)
    {
        double distance = Math.Sqrt(dx * dx + dy * dy);
        double rx = dx * Math.Cos(angle) + dy * Math.Sin(angle), ry = -dx * Math.Sin(angle) + dy * Math.Cos(angle);
        return label switch
        {
            "circle" => distance <= radius,
            "ring" => distance <= radius && distance >= radius * 0.55,
            "square" => Math.Abs(rx) <= radius * 0.8 && Math.Abs(ry) <= radius * 0.8,
            _ => Triangle(rx / radius, ry / radius),
        };
    }

    /// <summary>An equilateral triangle of circumradius 1 around the origin.</summary>
    private static bool Triangle(double x, double y)
    {
        for (int k = 0; k < 3; k++)
        {
            double a = Math.PI / 2 + k * 2 * Math.PI / 3;
            if (x * Math.Cos(a) + y * Math.Sin(a) < -0.5) return false;
        }
        return true;
    }

    private static int[] RandomColor(Random random) => new[] { random.Next(256), random.Next(256), random.Next(256) };
}
