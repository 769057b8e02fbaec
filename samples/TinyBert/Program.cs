using System.CommandLine;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;

// Step 1 of the tiny-BERT lab: turn a Hugging Face BERT checkpoint folder (config.json, vocab.txt,
// model.safetensors) into an ONNX encoder shaped like the Hugging Face exporter's.
var checkpoint = new Option<DirectoryInfo>("--checkpoint") { Description = "Folder with config.json and model.safetensors (a Hugging Face BERT checkpoint).", Required = true };
var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the ONNX encoder.", Required = true };
var export = new Command("export", "Build an ONNX encoder from a BERT checkpoint folder.") { checkpoint, output };
export.SetAction(parse =>
{
    try
    {
        var folder = parse.GetValue(checkpoint)!.FullName;
        var config = BertConfig.Read(Path.Combine(folder, "config.json"));
        var weights = new BertWeights(config, SafetensorsFile.Read(Path.Combine(folder, "model.safetensors")));
        var destination = parse.GetValue(output)!.FullName;
        OnnxModelFile.Save(BertOnnxBuilder.Build(weights), destination);
        Console.WriteLine($"Wrote {destination}: {config.Layers} layers, hidden {config.HiddenSize}, {config.Heads} heads, vocabulary {config.VocabularySize}.");
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
var root = new RootCommand("tiny-BERT lab tools. Available: export (a BERT checkpoint folder to an ONNX encoder).") { export };
return root.Parse(args).Invoke();
