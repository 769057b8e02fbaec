using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sentiment.Common;

/// <summary>One row of the lab's table.</summary>
/// <param name="Model">float, dynamic INT8 or static INT8.</param>
/// <param name="OnnxSizeKb">Size of the .onnx file (the whole model, or the encoder) in KB (1024 bytes).</param>
/// <param name="Accuracy">Test accuracy.</param>
/// <param name="Auc">Test area under the ROC curve.</param>
/// <param name="F1">Test F1 score.</param>
/// <param name="LatencyMs">Median milliseconds per review at batch 1 (one thread, ONNX Runtime).</param>
/// <param name="Speedup">Float latency divided by this model's latency.</param>
public sealed record LabRow(string Model, double OnnxSizeKb, double Accuracy, double Auc, double F1, double LatencyMs, double Speedup);

/// <summary>A lab's results: the table plus what the data and training were.</summary>
/// <param name="Title">The lab's title (the Markdown heading).</param>
/// <param name="DataSource">Where the reviews came from.</param>
/// <param name="SyntheticData">True when the built-in synthetic corpus was used (figures are not IMDB's).</param>
/// <param name="TrainReviews">Training reviews.</param>
/// <param name="TestReviews">Test reviews.</param>
/// <param name="Epochs">Per-epoch training loss and accuracy.</param>
/// <param name="Rows">float, dynamic, static.</param>
/// <param name="TotalSeconds">Wall-clock time of the whole run.</param>
/// <param name="Notes">Further lines for the report (e.g. where the model came from).</param>
public sealed record LabReport(string Title, string DataSource, bool SyntheticData, int TrainReviews, int TestReviews, IReadOnlyList<EpochResult> Epochs, IReadOnlyList<LabRow> Rows, double TotalSeconds, IReadOnlyList<string> Notes)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>The table as Markdown, headed by the data source (and a warning for synthetic data).</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine($"# {Title}");
        text.AppendLine();
        text.AppendLine(SyntheticData
            ? $"**Synthetic data** ({DataSource}): these figures are NOT IMDB figures."
            : $"Data: {DataSource}.");
        text.AppendLine(CultureInfo.InvariantCulture, $"{TrainReviews} training / {TestReviews} test reviews; {Epochs.Count} training epochs; run took {TotalSeconds:F0} s.");
        foreach (var note in Notes) text.AppendLine(note);
        text.AppendLine();
        text.AppendLine($"| model | {SizeColumn} | accuracy | AUC | F1 | latency ms/sample (batch 1) | speedup vs float |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Rows)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model} | {r.OnnxSizeKb:F1} | {r.Accuracy:P2} | {r.Auc:F4} | {r.F1:F4} | {r.LatencyMs:F3} | {r.Speedup:F2}x |");
        return text.ToString();
    }

    /// <summary>Heading of the size column.</summary>
    public string SizeColumn { get; init; } = "ONNX size KB";

    /// <summary>
    /// Writes the Markdown report to <paramref name="markdownPath"/> and the JSON next to it, prints the table to
    /// <paramref name="log"/>, and says where the report and <paramref name="artifacts"/> in <paramref name="outputFolder"/> went.
    /// </summary>
    public void Save(string markdownPath, string outputFolder, string artifacts, TextWriter log)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(markdownPath))!);
        var jsonPath = Path.ChangeExtension(markdownPath, ".json");
        File.WriteAllText(markdownPath, ToMarkdown());
        File.WriteAllText(jsonPath, ToJson());
        log.WriteLine();
        log.Write(ToMarkdown());
        log.WriteLine();
        log.WriteLine($"Wrote {markdownPath}, {jsonPath}, {artifacts} in {Path.GetFullPath(outputFolder)}.");
    }

    /// <summary>The report as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static LabReport FromJson(string json) => JsonSerializer.Deserialize<LabReport>(json, Json) ?? throw new InvalidDataException("Empty report.");
}
