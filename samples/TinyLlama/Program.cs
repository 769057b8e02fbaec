using System.CommandLine;
using TinyLlama.Lab;
using TinyLlama.Model;

// The TinyLlama lab: a Llama-shaped decoder trained here, exported to ONNX, quantized every way MLNet.Quantization can.
var defaults = new TinyLlamaOptions();
var config = defaults.Config;
var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => defaults.Steps };
var hidden = new Option<int>("--hidden") { Description = "Hidden width.", DefaultValueFactory = _ => config.Hidden };
var layers = new Option<int>("--layers") { Description = "Decoder layers.", DefaultValueFactory = _ => config.Layers };
var heads = new Option<int>("--heads") { Description = "Query heads.", DefaultValueFactory = _ => config.Heads };
var kvHeads = new Option<int>("--kv-heads") { Description = "Key/value heads (grouped-query attention).", DefaultValueFactory = _ => config.KeyValueHeads };
var intermediate = new Option<int>("--intermediate") { Description = "SwiGLU width.", DefaultValueFactory = _ => config.Intermediate };
var trainReviews = new Option<int>("--train-reviews") { Description = "Reviews of built-in text to train on.", DefaultValueFactory = _ => defaults.TrainReviews };
var threads = new Option<int?>("--threads") { Description = "TorchSharp training threads (default: the machine's cores)." };
var output = new Option<string>("--output") { Description = "Folder for the models and report.md.", DefaultValueFactory = _ => defaults.OutputFolder };
var only = new Option<string?>("--only") { Description = $"Comma-separated rows to build besides float ({string.Join(", ", LabVariant.All.Skip(1).Select(v => v.Name))})." };
var root = new RootCommand("TinyLlama lab: train a Llama-shaped decoder with TorchSharp, export to ONNX, quantize (float16, INT8/INT4 weight-only with RTN/HQQ/GPTQ, NF4, FP4, dynamic INT8) and measure size, perplexity, agreement and tokens/s.")
{
    steps, hidden, layers, heads, kvHeads, intermediate, trainReviews, threads, output, only,
};
root.SetAction(parse =>
{
    var options = defaults with
    {
        Steps = parse.GetValue(steps),
        Config = config with { Hidden = parse.GetValue(hidden), Layers = parse.GetValue(layers), Heads = parse.GetValue(heads), KeyValueHeads = parse.GetValue(kvHeads), Intermediate = parse.GetValue(intermediate) },
        TrainReviews = parse.GetValue(trainReviews),
        Threads = parse.GetValue(threads),
        OutputFolder = parse.GetValue(output)!,
        Only = parse.GetValue(only)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Array.Empty<string>(),
    };
    try
    {
        TinyLlamaLab.Run(options, Console.Out);
        return 0;
    }
    catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
return root.Parse(args).Invoke();
