using System.CommandLine;
using System.Globalization;
using MLNet.Quantization.Onnx;
using Spectre.Console;

namespace MLNet.Quantization.Cli;

/// <summary><c>debug FLOAT.onnx QUANT.onnx --data DIR</c>: per-tensor error of a quantized model, ranked, as a table, JSON and a PNG chart.</summary>
internal static class DebugCommand
{
    public static Command Create(TextWriter output, CancellationToken cancellationToken)
    {
        var floatModel = new Argument<FileInfo>("float") { Description = "The float ONNX model." };
        var quantizedModel = new Argument<FileInfo>("quantized") { Description = "The quantized model made from it." };
        var data = new Option<DirectoryInfo>("--data") { Description = "Inputs in the ONNX test-data layout (test_data_set_*/input_N.pb); use data the model was not calibrated on.", Required = true };
        var maxSamples = new Option<int>("--max-samples") { Description = "At most this many samples are run.", DefaultValueFactory = _ => 32 };
        var top = new Option<int>("--top") { Description = "Rows printed (worst first).", DefaultValueFactory = _ => 20 };
        var json = new Option<FileInfo?>("--json") { Description = "Write the whole report as JSON here (default: QUANT.debug.json)." };
        var plot = new Option<FileInfo?>("--plot") { Description = "Write a PNG chart of SQNR per tensor here (default: QUANT.debug.png)." };
        var sensitivity = new Option<bool>("--sensitivity") { Description = "Also measure, for every product static mode quantizes, the output error when only that node is quantized (needs --calibration-data)." };
        var calibrationData = new Option<DirectoryInfo?>("--calibration-data") { Description = "With --sensitivity: calibration inputs (test-data layout)." };
        var command = new Command("debug", "Compare every intermediate tensor of a quantized model with the float model's.") { floatModel, quantizedModel, data, maxSamples, top, json, plot, sensitivity, calibrationData };
        command.SetAction(parse =>
        {
            if (parse.GetValue(sensitivity) && parse.GetValue(calibrationData) is null) throw new UsageException("--sensitivity needs --calibration-data DIR.");
            var floatFile = parse.GetValue(floatModel)!;
            var quantizedFile = parse.GetValue(quantizedModel)!;
            var report = QuantizationDebugger.Compare(OnnxModelFile.Load(floatFile.FullName), OnnxModelFile.Load(quantizedFile.FullName),
                CalibrationData.FromTestDataFolder(parse.GetValue(data)!.FullName), parse.GetValue(maxSamples), cancellationToken);
            var jsonPath = parse.GetValue(json)?.FullName ?? Path.ChangeExtension(quantizedFile.FullName, ".debug.json");
            var plotPath = parse.GetValue(plot)?.FullName ?? Path.ChangeExtension(quantizedFile.FullName, ".debug.png");
            Print(output, report, parse.GetValue(top));
            File.WriteAllText(jsonPath, report.ToJson());
            DebugChart.Save(report, plotPath, $"{floatFile.Name} vs {quantizedFile.Name}");
            output.WriteLine($"Wrote {jsonPath} and {plotPath}.");
            if (parse.GetValue(sensitivity))
            {
                var calibration = parse.GetValue(calibrationData) ?? throw new UsageException("--sensitivity needs --calibration-data DIR.");
                var nodes = QuantizationDebugger.Sensitivity(OnnxModelFile.Load(floatFile.FullName), new QuantizationOptions { Mode = QuantizationMode.Static },
                    CalibrationData.FromTestDataFolder(calibration.FullName), CalibrationData.FromTestDataFolder(parse.GetValue(data)!.FullName), cancellationToken);
                PrintSensitivity(output, nodes);
                var sensitivityPath = Path.ChangeExtension(quantizedFile.FullName, ".sensitivity.json");
                File.WriteAllText(sensitivityPath, System.Text.Json.JsonSerializer.Serialize(nodes, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                output.WriteLine($"Wrote {sensitivityPath}.");
            }
            return CliApp.Success;
        });
        return command;
    }

    private static void PrintSensitivity(TextWriter output, IReadOnlyList<NodeSensitivity> nodes)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 160;
        var table = new Table().AddColumns("node quantized alone", "op", "output cosine", "argmax agreement");
        foreach (var n in nodes)
            table.AddRow(Markup.Escape(n.NodeName), n.OpType, n.Cosine.ToString("F6", CultureInfo.InvariantCulture), n.Agreement.ToString("P2", CultureInfo.InvariantCulture));
        console.Write(table);
        output.WriteLine("Sensitivity, most sensitive first: keep the top nodes float (--exclude-nodes or an overrides file) to win back accuracy.");
    }

    private static void Print(TextWriter output, DebugReport report, int top)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 160;
        var table = new Table().AddColumns("tensor", "op", "SQNR dB", "cosine", "max abs error", "quantized as");
        foreach (var t in report.Ranked.Take(top))
        {
            table.AddRow(Markup.Escape(t.FloatTensor), t.Producer, double.IsPositiveInfinity(t.SqnrDb) ? "exact" : t.SqnrDb.ToString("F1", CultureInfo.InvariantCulture),
                t.Cosine.ToString("F6", CultureInfo.InvariantCulture), t.MaxAbsError.ToString("G4", CultureInfo.InvariantCulture), Markup.Escape(t.QuantizedTensor));
        }
        console.Write(table);
        output.WriteLine($"{report.Tensors.Count} tensors compared over {report.Samples} samples, worst first; {report.Unmatched.Count} float tensors have no counterpart (fused or removed).");
    }
}
