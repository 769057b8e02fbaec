using System.Globalization;
using System.Text;

namespace TinyLlama.Lab;

/// <summary>The lab's Markdown report: one table of size, perplexity, agreement and speed, then each model's sample.</summary>
public static class LabReport
{
    /// <summary>Renders the rows (the first is float, the reference of every ratio).</summary>
    public static string Render(IReadOnlyList<LabRow> rows, string header)
    {
        var c = CultureInfo.InvariantCulture;
        var reference = rows[0];
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        text.AppendLine("| model | size (KB) | smaller | perplexity | vs float | next-token agreement | tokens/s | speed vs float | quantize (s) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            text.AppendLine(string.Format(c, "| {0} | {1:F0} | {2:F2}x | {3:F4} | {4:+0.00;-0.00;0.00}% | {5:P2} | {6:F0} | {7:F2}x | {8:F1} |",
                r.Name, r.Bytes / 1000.0, (double)reference.Bytes / r.Bytes, r.Perplexity, 100 * (r.Perplexity / reference.Perplexity - 1), r.Agreement,
                r.TokensPerSecond, r.TokensPerSecond / reference.TokensPerSecond, r.QuantizeSeconds));
        }
        text.AppendLine().AppendLine("Greedy continuations:").AppendLine();
        foreach (var r in rows) text.AppendLine($"- **{r.Name}**: `{r.Sample.Replace("\n", " / ")}`");
        return text.ToString();
    }
}
