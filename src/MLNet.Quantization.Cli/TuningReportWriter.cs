using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MLNet.Quantization.Cli;

/// <summary>Writes the tuner's trials as Markdown, JSON and a PNG (score against model size, one point per trial).</summary>
internal static class TuningReportWriter
{
    public static IReadOnlyList<string> Write(IReadOnlyList<TuningTrial> trials, IReadOnlyList<string> notes, string stem)
    {
        var markdown = new StringBuilder();
        markdown.AppendLine("# Tuning trials").AppendLine();
        foreach (var note in notes) markdown.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        markdown.AppendLine().AppendLine("| # | purpose | calibration | nodes quantized | agreement | cosine | metric | meets target | size KiB | latency vs float |");
        markdown.AppendLine("|---:|---|---|---:|---:|---:|---:|---|---:|---:|");
        foreach (var t in trials)
        {
            markdown.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Number} | {t.Purpose} | {t.CalibrationMethod} | {t.QuantizedNodes} | {Format(t.Agreement, "P2")} | {Format(t.Cosine, "F6")} | {(t.Metric is { } m ? m.ToString("G5", CultureInfo.InvariantCulture) : "")} | {(t.MeetsTarget ? "yes" : "no")} | {t.ModelBytes / 1024.0:F1} | {(t.LatencyRatio is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) + "x" : "")} |");
        }
        var paths = new[] { stem + ".md", stem + ".json", stem + ".png" };
        File.WriteAllText(paths[0], markdown.ToString());
        File.WriteAllText(paths[1], JsonSerializer.Serialize(new { notes, trials }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Plot(trials, paths[2]);
        return paths;
    }

    private static string Format(double value, string format) => double.IsNaN(value) ? "" : value.ToString(format, CultureInfo.InvariantCulture);

    private static void Plot(IReadOnlyList<TuningTrial> trials, string path)
    {
        var plot = new ScottPlot.Plot();
        var judged = trials.Where(t => !double.IsNaN(t.Cosine)).ToList();
        foreach (var (group, color, label) in new[] { (judged.Where(t => t.MeetsTarget), ScottPlot.Colors.SeaGreen, "meets target"), (judged.Where(t => !t.MeetsTarget), ScottPlot.Colors.IndianRed, "misses target") })
        {
            var points = group.ToList();
            if (points.Count == 0) continue;
            var scatter = plot.Add.ScatterPoints(points.Select(t => t.ModelBytes / 1024.0).ToArray(), points.Select(t => t.Agreement).ToArray());
            scatter.Color = color;
            scatter.MarkerSize = 9;
            scatter.LegendText = label;
            foreach (var t in points) plot.Add.Text($"{t.Number}", t.ModelBytes / 1024.0, t.Agreement).LabelFontSize = 10;
        }
        plot.Title("Tuning: argmax agreement with float against model size, one point per trial (number)");
        plot.XLabel("model size (KiB)");
        plot.YLabel("agreement with float");
        plot.ShowLegend();
        plot.SavePng(path, 1000, 600);
    }
}
