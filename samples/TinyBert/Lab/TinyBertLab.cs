using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization;
using Sentiment.Common;
using TinyBert.Encoder;
using TinyBert.Pipeline;

namespace TinyBert.Lab;

/// <summary>
/// The tiny-BERT lab: a frozen BERT encoder in an ML.NET pipeline (text → BertTokenizer → ApplyOnnxModel → [CLS]
/// features → L-BFGS logistic regression head), then the encoder quantized inside the fitted pipeline — dynamic,
/// and static calibrated on training texts — with the trained head kept; size, accuracy, AUC, F1, batch-1 latency.
/// </summary>
public static class TinyBertLab
{
    /// <summary>Runs the lab and writes encoders, zips and reports under <see cref="TinyBertOptions.OutputFolder"/>.</summary>
    public static async Task<LabReport> RunAsync(TinyBertOptions options, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.OutputFolder);
        var data = (await ReviewDataSource.LoadAsync(options.DataPath, options.DownloadImdb, options.TrainSamples, options.TestSamples, options.Seed, log).ConfigureAwait(false))
            .Take(options.TrainSamples, options.TestSamples);
        int held = Math.Clamp(options.ValidationSamples, 1, data.Train.Count / 2);
        var validationReviews = data.Train.Skip(data.Train.Count - held).ToList();
        data = data with { Train = data.Train.Take(data.Train.Count - held).ToList() };
        log.WriteLine($"Data: {data.Source}; {data.Train.Count} training, {validationReviews.Count} validation (held out, for the tuned row) and {data.Test.Count} test reviews.");
        var encoder = await EncoderSource.ResolveAsync(options, data, log).ConfigureAwait(false);
        BertTokenization.Use(encoder.VocabularyPath);

        var ml = new MLContext(seed: options.Seed);
        var train = ml.Data.LoadFromEnumerable(data.Train.Select(r => new LabelledText { Text = r.Text, Label = r.Positive }).ToList());
        var test = ml.Data.LoadFromEnumerable(data.Test.Select(r => new LabelledText { Text = r.Text, Label = r.Positive }).ToList());
        var validation = ml.Data.LoadFromEnumerable(validationReviews.Select(r => new LabelledText { Text = r.Text, Label = r.Positive }).ToList());
        var tokenize = ml.Transforms.CustomMapping(new BertTokenization().GetMapping(), BertTokenization.ContractName).Fit(train);
        var tokens = tokenize.Transform(train);
        var outputs = new[] { EncoderGraph.ClsOutput };
        var inputs = BertOnnxBuilder.InputNames.ToArray();
        var features = ml.Transforms.CopyColumns("Features", EncoderGraph.ClsOutput);

        log.WriteLine("Fitting the ML.NET pipeline: BertTokenizer → ApplyOnnxModel(encoder) → [CLS] features → LbfgsLogisticRegression ...");
        var floatEncoder = ml.Transforms.ApplyOnnxModel(outputs, inputs, encoder.OnnxPath).Fit(tokens);
        var copy = features.Fit(floatEncoder.Transform(tokens));
        var head = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(nameof(LabelledText.Label), "Features").Fit(copy.Transform(floatEncoder.Transform(tokens)));
        ITransformer Pipeline(ITransformer onnx) => new TransformerChain<ITransformer>(tokenize, onnx, copy, head);

        log.WriteLine("Quantizing the encoder inside the fitted pipeline (the trained head is kept): dynamic INT8 ...");
        var dynamicEstimator = ml.Transforms.Quantize(outputs, inputs, encoder.OnnxPath, new QuantizationOptions());
        var dynamicEncoder = dynamicEstimator.Fit(tokens);
        log.WriteLine($"... static INT8, calibrated on {options.CalibrationSamples} training texts ...");
        var staticOptions = new QuantizationOptions
        {
            Mode = QuantizationMode.Static,
            Format = QuantizationFormat.QOperator,
            QuantizeActivationMatMuls = true,
            MaxCalibrationSamples = options.CalibrationSamples,
        };
        var staticEstimator = ml.Transforms.Quantize(outputs, inputs, encoder.OnnxPath, staticOptions);
        var calibrationRows = ml.Data.TakeRows(tokens, options.CalibrationSamples);
        var staticEncoder = staticEstimator.Fit(calibrationRows);

        // The tuned row: the lab's own metric (the trained head's accuracy through ML.NET's evaluator) on the held-out
        // validation split judges every candidate encoder; within 0.5 point of float is the target.
        log.WriteLine($"... tuned static INT8 (validation accuracy within 0.5 point of float, {validationReviews.Count} held-out reviews) ...");
        var validationTokens = tokenize.Transform(validation);
        double Accuracy(ITransformer candidate) =>
            ml.BinaryClassification.Evaluate(head.Transform(copy.Transform(candidate.Transform(validationTokens))), nameof(LabelledText.Label)).Accuracy;
        var tunedEstimator = ml.Transforms.Quantize(outputs, inputs, encoder.OnnxPath, staticOptions with
        {
            Tuning = new TuningOptions { EvaluationDataView = validationTokens, TransformerMetric = Accuracy, MaxMetricDrop = 0.005, MaxEvaluationSamples = 1 },
        });
        var tunedEncoder = tunedEstimator.Fit(calibrationRows);

        var paths = new[] { encoder.OnnxPath, Path.Combine(options.OutputFolder, "encoder.dynamic.onnx"), Path.Combine(options.OutputFolder, "encoder.static.onnx"), Path.Combine(options.OutputFolder, "encoder.tuned.onnx") };
        dynamicEstimator.Result!.Save(paths[1]);
        staticEstimator.Result!.Save(paths[2]);
        tunedEstimator.Result!.Save(paths[3]);
        var pipelines = new[] { Pipeline(floatEncoder), Pipeline(dynamicEncoder), Pipeline(staticEncoder), Pipeline(tunedEncoder) };
        var names = new[] { "float", "dynamic INT8", "static INT8", "tuned INT8" };
        for (int i = 0; i < names.Length; i++) ml.Model.Save(pipelines[i], train.Schema, Path.Combine(options.OutputFolder, $"tinybert.{names[i].Split(' ')[0]}.zip"));

        log.WriteLine("Evaluating on the test set ...");
        var metrics = pipelines.Select(p => ml.BinaryClassification.Evaluate(p.Transform(test), nameof(LabelledText.Label))).ToList();
        log.WriteLine($"Timing each encoder at batch 1 on {Math.Min(options.LatencySamples, data.Test.Count)} test texts (ONNX Runtime, one thread, interleaved) ...");
        var latencyInputs = data.Test.Take(options.LatencySamples).Select(r => Feed(r.Text)).ToList();
        var latency = LatencyMeter.Measure(paths, latencyInputs);

        var rows = Enumerable.Range(0, names.Length).Select(i => new LabRow(names[i], new FileInfo(paths[i]).Length / 1024.0, metrics[i].Accuracy, metrics[i].AreaUnderRocCurve, metrics[i].F1Score, latency[i], latency[0] / latency[i])).ToList();
        var report = new LabReport("tiny-BERT lab: frozen encoder + ML.NET head, float vs INT8", data.Source, data.IsSynthetic, data.Train.Count, data.Test.Count, encoder.Epochs, rows, clock.Elapsed.TotalSeconds,
            new[]
            {
                $"Encoder: {encoder.Description}.", "Head: ML.NET LbfgsLogisticRegression on the [CLS] embedding; latency is the encoder's alone.",
                $"Tuned INT8: static, tuned until the head's accuracy on the {validationReviews.Count} held-out validation reviews is within 0.5 point of float's; {string.Join(" ", tunedEstimator.Report!.Notes.Where(n => n.StartsWith("tuning", StringComparison.Ordinal) || n.StartsWith("latency guard", StringComparison.Ordinal)))}",
            })
        { SizeColumn = "encoder size KB" };
        report.Save(options.ReportPath ?? Path.Combine(options.OutputFolder, "report.md"), options.OutputFolder, "the four encoders and ML.NET zips", log);
        return report;
    }

    private static IReadOnlyList<NamedOnnxValue> Feed(string text)
    {
        var sample = BertTokenization.Encode(BertTokenization.Tokenizer!, text);
        var dims = new[] { 1, BertTokenization.Length };
        return new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(sample.Ids.Select(i => (long)i).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Range(0, BertTokenization.Length).Select(i => i < sample.Length ? 1L : 0L).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[BertTokenization.Length], dims)),
        };
    }
}
