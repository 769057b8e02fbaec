using System.CommandLine;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary><c>quantize IN.onnx -o OUT.onnx [options]</c>.</summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter output)
    {
        var input = new Argument<FileInfo>("model") { Description = "The float ONNX model to quantize." };
        var outputPath = new Option<FileInfo>("--output", "-o") { Description = "Where to write the quantized model.", Required = true };
        var mode = new Option<string>("--mode") { Description = "Quantization mode.", DefaultValueFactory = _ => "dynamic" };
        mode.AcceptOnlyFromAmong("dynamic");
        var weightType = new Option<string>("--weight-type") { Description = "Weight element type.", DefaultValueFactory = _ => "int8" };
        weightType.AcceptOnlyFromAmong("int8", "uint8");
        var perChannel = new Option<bool>("--per-channel") { Description = "One scale per output channel (the default; --per-channel false for per-tensor).", DefaultValueFactory = _ => true };
        var reduceRange = new Option<bool>("--reduce-range") { Description = "7-bit weights, for CPUs without VNNI." };
        var excludeNodes = new Option<string?>("--exclude-nodes") { Description = "Comma-separated node names to keep float." };
        var excludeOps = new Option<string?>("--exclude-op-types") { Description = "Comma-separated operator types to keep float." };
        var opTypes = new Option<string?>("--op-types") { Description = "Comma-separated operator types to quantize (default MatMul,Gemm,Gather,LSTM)." };
        var quantizeConv = new Option<bool>("--quantize-conv") { Description = "Also quantize Conv (smaller but slower on CPU)." };
        var matmulForm = new Option<string>("--matmul-form") { Description = "fused (DynamicQuantizeMatMul) or chain (MatMulInteger, standard ONNX).", DefaultValueFactory = _ => "fused" };
        matmulForm.AcceptOnlyFromAmong("fused", "chain");
        var minElements = new Option<long>("--min-weight-elements") { Description = "Weights with fewer elements stay float.", DefaultValueFactory = _ => new QuantizationOptions().MinimumWeightElements };
        var externalData = new Option<bool>("--external-data") { Description = "Write weights to OUT.onnx.data next to the model." };

        var command = new Command("quantize", "Quantize an ONNX model to INT8.")
        {
            input, outputPath, mode, weightType, perChannel, reduceRange, excludeNodes, excludeOps, opTypes, quantizeConv, matmulForm, minElements, externalData,
        };
        command.SetAction(parse =>
        {
            var weight = parse.GetValue(weightType) == "uint8" ? QuantizedType.UInt8 : QuantizedType.Int8;
            var options = new QuantizationOptions
            {
                Mode = QuantizationMode.Dynamic,
                WeightType = weight,
                SymmetricWeights = weight == QuantizedType.Int8,
                PerChannel = parse.GetValue(perChannel),
                ReduceRange = parse.GetValue(reduceRange),
                NodesToExclude = SplitList(parse.GetValue(excludeNodes)),
                OpTypesToExclude = SplitList(parse.GetValue(excludeOps)),
                OpTypesToQuantize = SplitList(parse.GetValue(opTypes)),
                QuantizeConv = parse.GetValue(quantizeConv),
                MatMulForm = parse.GetValue(matmulForm) == "chain" ? DynamicMatMulForm.OperatorChain : DynamicMatMulForm.Fused,
                MinimumWeightElements = parse.GetValue(minElements),
            };
            var source = parse.GetValue(input)!;
            var destination = parse.GetValue(outputPath)!;
            if (!source.Exists) throw new FileNotFoundException($"Model file '{source.FullName}' was not found.");
            var report = OnnxQuantizer.QuantizeFile(source.FullName, destination.FullName, options,
                parse.GetValue(externalData) ? ExternalDataMode.Always : ExternalDataMode.Auto);
            output.Write(report.ToString());
            output.WriteLine($"Wrote {destination.FullName} ({destination.Length / 1024.0:F1} KiB; input {source.Length / 1024.0:F1} KiB).");
            return CliApp.Success;
        });
        return command;
    }

    private static string[] SplitList(string? value) =>
        string.IsNullOrWhiteSpace(value) ? Array.Empty<string>() : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
