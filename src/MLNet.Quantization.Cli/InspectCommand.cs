using System.CommandLine;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary><c>inspect MODEL.onnx</c>: opsets, operator histogram, weight bytes by type, quantization format.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output)
    {
        var input = new Argument<FileInfo>("model") { Description = "The ONNX model to describe, or an ML.NET model zip (its transformers and embedded ONNX models)." };
        var command = new Command("inspect", "Describe an ONNX model and how (whether) it is quantized.") { input };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(input)!;
            if (file.Exists && ModelFiles.ModelZip.LooksLikeZip(file.FullName)) return ZipCommands.Inspect(file, output);
            var model = OnnxModelFile.Load(file.FullName);
            var summary = ModelSummary.Of(model);
            output.WriteLine($"Model: {file.FullName} ({file.Length / 1024.0:F1} KiB), IR version {model.Proto.IrVersion}, producer '{model.Proto.ProducerName}'");
            output.WriteLine($"Opsets: {string.Join(", ", model.Proto.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}"))}");
            output.WriteLine($"Inputs: {string.Join(", ", model.Graph.Input.Where(i => !model.Graph.Initializer.Any(t => t.Name == i.Name)).Select(ModelSummary.Describe))}");
            output.WriteLine($"Outputs: {string.Join(", ", model.Graph.Output.Select(ModelSummary.Describe))}");
            output.WriteLine($"Quantization: {summary.Format}");
            output.WriteLine("Weights by element type:");
            foreach (var (type, bytes) in summary.WeightBytes.OrderByDescending(kv => kv.Value))
                output.WriteLine($"  {type,-10} {bytes / 1024.0,12:F1} KiB");
            output.WriteLine("Operators:");
            foreach (var (op, count) in summary.OperatorCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key))
                output.WriteLine($"  {op,-32} {count,6}");
            return CliApp.Success;
        });
        return command;
    }
}
