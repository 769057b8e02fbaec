using System.Globalization;
using System.Text;

namespace ImageClassification;

/// <summary>The lab's table as Markdown, printed and written to report.md.</summary>
internal static class LabReport
{
    public static string Write(IReadOnlyList<LabRow> rows, string path)
    {
        var floatRow = rows[0];
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Image classification lab, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores");
        text.AppendLine();
        text.AppendLine("| model | zip size | vs float | accuracy (held out) | pipeline ms/image | ResNet18 ms | ResNet18 vs float | notes |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var row in rows)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Name} | {row.ZipBytes / 1e6:F1} MB | {(double)floatRow.ZipBytes / row.ZipBytes:F2}× | {row.Accuracy:P1} | {row.PipelineMilliseconds:F1} | {row.ResNetMilliseconds:F1} | {row.ResNetMilliseconds / floatRow.ResNetMilliseconds:F2} | {row.Notes} |");
        File.WriteAllText(path, text.ToString());
        return text.ToString();
    }
}
