using System.CommandLine;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary><c>dequantize IN.onnx -o OUT.onnx</c>: a quantized model back to plain float operators.</summary>
internal static class DequantizeCommand
{
    public static Command Create(TextWriter output, TextWriter errorOutput, CancellationToken cancellationToken)
    {
        var input = new Argument<FileInfo>("model") { Description = "The quantized ONNX model (dynamic, QDQ, QOperator, weight-only, NF4/FP4 or float16), or an ML.NET model zip whose ONNX models are dequantized." };
        var outputPath = new Option<FileInfo>("--output", "-o") { Description = "Where to write the float model.", Required = true };
        var externalData = new Option<bool>("--external-data") { Description = "Write weights to OUT.onnx.data next to the model (automatic above 2 GiB)." };
        var command = new Command("dequantize", "Turn a quantized model back into float operators with the weights decoded from their integers.") { input, outputPath, externalData };
        command.SetAction(parse =>
        {
            var source = parse.GetValue(input)!;
            var destination = parse.GetValue(outputPath)!;
            if (!source.Exists) throw new FileNotFoundException($"Model file '{source.FullName}' was not found.");
            if (ModelFiles.ModelZip.LooksLikeZip(source.FullName))
            {
                if (parse.GetValue(externalData)) throw new UsageException("--external-data does not apply to an ML.NET model zip: its ONNX models are stored inside the zip.");
                return ZipCommands.Dequantize(source, destination, output, cancellationToken);
            }
            var mode = parse.GetValue(externalData) ? ExternalDataMode.Always : ExternalDataMode.Auto;
            var report = LiveProgress.Run(errorOutput, progress => OnnxDequantizer.DequantizeFile(source.FullName, destination.FullName, mode, progress, cancellationToken));
            output.Write(report.ToString());
            output.WriteLine($"Wrote {destination.FullName} ({ModelFileSize.Describe(destination)}; input {ModelFileSize.Describe(source)}).");
            return CliApp.Success;
        });
        return command;
    }
}
