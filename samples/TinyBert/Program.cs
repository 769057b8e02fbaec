using System.CommandLine;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;
using TinyBert.Lab;

// The tiny-BERT lab in .NET: a frozen BERT encoder + an ML.NET head, the encoder quantized inside the pipeline.
var checkpoint = new Option<string?>("--checkpoint") { Description = "Hugging Face BERT checkpoint folder (config.json, vocab.txt, model.safetensors)." };
var onnx = new Option<string?>("--onnx") { Description = "ONNX export folder (model.onnx with input_ids/attention_mask/token_type_ids → last_hidden_state, vocab.txt)." };
var download = new Option<bool>("--download") { Description = "Download google/bert_uncased_L-2_H-128_A-2 (config.json, vocab.txt, model.safetensors; cached)." };
var data = new Option<string?>("--data") { Description = "Reviews: an aclImdb folder, aclImdb_v1.tar.gz or a review,sentiment CSV (default: the built-in synthetic corpus)." };
var downloadImdb = new Option<bool>("--download-imdb") { Description = "Download the IMDB tarball for the reviews (cached)." };
var defaults = new TinyBertOptions();
var trainSamples = new Option<int>("--train-samples") { Description = "Training reviews.", DefaultValueFactory = _ => defaults.TrainSamples };
var testSamples = new Option<int>("--test-samples") { Description = "Test reviews.", DefaultValueFactory = _ => defaults.TestSamples };
var epochs = new Option<int>("--encoder-epochs") { Description = "Epochs when the encoder is trained from scratch.", DefaultValueFactory = _ => defaults.EncoderEpochs };
var validation = new Option<int>("--validation-samples") { Description = "Training reviews held out as the validation split the tuned row is tuned on.", DefaultValueFactory = _ => defaults.ValidationSamples };
var calibration = new Option<int>("--calibration-samples") { Description = "Training texts static quantization calibrates on.", DefaultValueFactory = _ => defaults.CalibrationSamples };
var output = new Option<string>("--output") { Description = "Folder for encoders, zips and reports.", DefaultValueFactory = _ => defaults.OutputFolder };
var report = new Option<string?>("--report") { Description = "Markdown report path (JSON next to it). Default: OUTPUT/report.md." };
var threads = new Option<int?>("--threads") { Description = "TorchSharp training threads when the encoder is trained from scratch (default: the machine's core count)." };
var root = new RootCommand("tiny-BERT lab: frozen BERT encoder + ML.NET classifier head, encoder quantized with MLNet.Quantization.")
{
    checkpoint, onnx, download, data, downloadImdb, trainSamples, testSamples, epochs, calibration, validation, output, report, threads,
};
root.SetAction(async (parse, cancellation) =>
{
    var options = new TinyBertOptions
    {
        CheckpointFolder = parse.GetValue(checkpoint), OnnxFolder = parse.GetValue(onnx), Download = parse.GetValue(download),
        DataPath = parse.GetValue(data), DownloadImdb = parse.GetValue(downloadImdb), TrainSamples = parse.GetValue(trainSamples),
        TestSamples = parse.GetValue(testSamples), EncoderEpochs = parse.GetValue(epochs), CalibrationSamples = parse.GetValue(calibration), ValidationSamples = parse.GetValue(validation),
        OutputFolder = parse.GetValue(output)!, ReportPath = parse.GetValue(report), Threads = parse.GetValue(threads),
    };
    try
    {
        await TinyBertLab.RunAsync(options, Console.Out);
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or HttpRequestException or UnauthorizedAccessException or InvalidOperationException or System.Text.Json.JsonException)
    {
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        Console.Error.WriteLine($"error: {(inner == e ? e.Message : $"{e.Message}: {inner.Message}")}");
        return 1;
    }
});

var checkpointFolder = new Option<DirectoryInfo>("--checkpoint") { Description = "Hugging Face BERT checkpoint folder.", Required = true };
var exportOutput = new Option<FileInfo>("--output", "-o") { Description = "Where to write the ONNX encoder.", Required = true };
var export = new Command("export", "Only build an ONNX encoder from a BERT checkpoint folder.") { checkpointFolder, exportOutput };
export.SetAction(parse =>
{
    try
    {
        var folder = parse.GetValue(checkpointFolder)!.FullName;
        var config = BertConfig.Read(Path.Combine(folder, "config.json"));
        OnnxModelFile.Save(BertOnnxBuilder.Build(new BertWeights(config, SafetensorsFile.Read(Path.Combine(folder, "model.safetensors")))), parse.GetValue(exportOutput)!.FullName);
        Console.WriteLine($"Wrote {parse.GetValue(exportOutput)!.FullName}: {config.Layers} layers, hidden {config.HiddenSize}, {config.Heads} heads, vocabulary {config.VocabularySize}.");
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
root.Subcommands.Add(export);
return await root.Parse(args).InvokeAsync();
