using System.CommandLine;
using ImdbSentiment.Lab;

// The IMDB lab in .NET: train a small sentiment transformer, quantize it in ML.NET pipelines, compare.
var data = new Option<string?>("--data") { Description = "IMDB reviews: an aclImdb folder, aclImdb_v1.tar.gz, or a CSV with review,sentiment columns." };
var download = new Option<bool>("--download") { Description = "Download the official IMDB tarball (84 MB, cached in the user's cache folder)." };
var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => new LabOptions().Epochs };
var trainSamples = new Option<int>("--train-samples") { Description = "Training reviews to use.", DefaultValueFactory = _ => new LabOptions().TrainSamples };
var testSamples = new Option<int>("--test-samples") { Description = "Test reviews to use.", DefaultValueFactory = _ => new LabOptions().TestSamples };
var calibration = new Option<int>("--calibration-samples") { Description = "Training reviews static quantization calibrates on.", DefaultValueFactory = _ => new LabOptions().CalibrationSamples };
var validation = new Option<int>("--validation-samples") { Description = "Training reviews held out of training as the validation split the tuned row is tuned on.", DefaultValueFactory = _ => new LabOptions().ValidationSamples };
var output = new Option<string>("--output") { Description = "Folder for models, zips and reports.", DefaultValueFactory = _ => Path.Combine("artifacts", "imdb") };
var report = new Option<string?>("--report") { Description = "Markdown report path (JSON is written next to it). Default: OUTPUT/report.md." };
var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 };
var threads = new Option<int?>("--threads") { Description = "TorchSharp training threads (default: the machine's core count)." };
var qatEpochs = new Option<int>("--qat-epochs") { Description = "Quantization-aware fine-tuning epochs for the QAT INT8 row.", DefaultValueFactory = _ => new LabOptions().QatEpochs };
var learnedScales = new Option<bool>("--learned-scales") { Description = "QAT learns its activation scales (LSQ) instead of following moving-average min/max observers." };
var root = new RootCommand("IMDB sentiment lab: train a small transformer, quantize it with MLNet.Quantization, compare size, accuracy and latency.")
{
    data, download, epochs, trainSamples, testSamples, calibration, validation, output, report, seed, threads, qatEpochs, learnedScales,
};
var torchInfo = new Command("torch-info", "Loads TorchSharp and libtorch and prints their versions and threads (checks the native libraries load on this machine).");
torchInfo.SetAction(_ =>
{
    var x = TorchSharp.torch.ones(2, 2);
    Console.WriteLine($"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}, libtorch {TorchSharp.torch.__version__}, {TorchSharp.torch.get_num_threads()} threads, sum {x.sum().item<float>()}");
    return 0;
});
root.Subcommands.Add(torchInfo);
root.SetAction(async (parse, cancellation) =>
{
    var options = new LabOptions
    {
        DataPath = parse.GetValue(data),
        Download = parse.GetValue(download),
        Epochs = parse.GetValue(epochs),
        TrainSamples = parse.GetValue(trainSamples),
        TestSamples = parse.GetValue(testSamples),
        CalibrationSamples = parse.GetValue(calibration),
        ValidationSamples = parse.GetValue(validation),
        OutputFolder = parse.GetValue(output)!,
        ReportPath = parse.GetValue(report),
        Seed = parse.GetValue(seed),
        Threads = parse.GetValue(threads),
        QatEpochs = parse.GetValue(qatEpochs),
        LearnedScales = parse.GetValue(learnedScales),
    };
    try
    {
        await ImdbLab.RunAsync(options, Console.Out);
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or HttpRequestException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();
