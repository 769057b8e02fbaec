using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization;

namespace ImageClassification;

/// <summary>One row of the lab's table.</summary>
internal sealed record LabRow(string Name, long ZipBytes, double Accuracy, double PipelineMilliseconds, double ResNetMilliseconds, string Notes);

/// <summary>
/// The classic ML.NET image-classification pipeline (LoadImages → ResizeImages → ExtractPixels → DnnFeaturizeImage
/// with ResNet18 → SDCA maximum entropy), trained on the built-in shape images, saved as a zip, quantized as a zip
/// (dynamic and static INT8) and evaluated: zip size, accuracy on held-out images, latency per image of the whole
/// pipeline and of the ResNet18 part alone.
/// </summary>
internal sealed class ImageLab
{
    private readonly MLContext _ml = new(seed: 1);
    private readonly string _folder;
    private readonly string _images;

    public ImageLab(string folder)
    {
        _folder = folder;
        _images = Path.Combine(folder, "images");
    }

    public List<LabRow> Run(int trainPerClass, int testPerClass, int calibrationImages, int latencyRuns, TextWriter log)
    {
        var train = ShapeImages.Write(_images, "train", trainPerClass, seed: 1);
        var test = ShapeImages.Write(_images, "test", testPerClass, seed: 2);
        log.WriteLine($"Images: {train.Count} for training, {test.Count} held out ({ShapeImages.Classes.Length} shapes, generated, 96×96).");
        var trainData = _ml.Data.LoadFromEnumerable(train);
        var testData = _ml.Data.LoadFromEnumerable(test);

        var watch = Stopwatch.StartNew();
        var pipeline = _ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label")
            .Append(_ml.Transforms.LoadImages("Image", _images, nameof(ImageRow.ImagePath)))
            .Append(_ml.Transforms.ResizeImages("Image", 224, 224))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Image"))
            .Append(_ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(_ml, m.OutputColumn, m.InputColumn), "Pixels"))
            .AppendCacheCheckpoint(_ml)
            .Append(_ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey", "Features", maximumNumberOfIterations: 30))
            .Append(_ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        log.WriteLine("Featurizing with ResNet18 (cached for the trainer's passes) and training SDCA maximum entropy ...");
        var model = pipeline.Fit(trainData);
        var floatZip = Path.Combine(_folder, "MLModel.zip");
        _ml.Model.Save(model, trainData.Schema, floatZip);
        log.WriteLine($"Trained and saved {floatZip} in {watch.Elapsed.TotalSeconds:F0} s.");

        var calibration = _ml.Data.LoadFromEnumerable(train.Where((_, i) => i % Math.Max(1, train.Count / calibrationImages) == 0).Take(calibrationImages).ToList());
        var variants = new List<(string Name, string Zip, string Notes)> { ("float", floatZip, "") };
        foreach (var (name, options) in new[]
        {
            ("dynamic INT8", new QuantizationOptions()),
            ("static INT8 (QDQ)", new QuantizationOptions { Mode = QuantizationMode.Static }),
        })
        {
            watch.Restart();
            var loaded = _ml.Model.Load(floatZip, out var schema);
            var quantized = _ml.Model.Quantize(loaded, schema, options, options.Mode == QuantizationMode.Static ? calibration : null);
            var zip = Path.Combine(_folder, $"MLModel.{(options.Mode == QuantizationMode.Static ? "static" : "dynamic")}.zip");
            _ml.Model.Save(quantized, schema, zip);
            variants.Add((name, zip, $"quantized in {watch.Elapsed.TotalSeconds:F1} s"));
            log.WriteLine($"{name}: {zip} ({watch.Elapsed.TotalSeconds:F1} s).");
        }

        var rows = new List<LabRow>();
        var resnetLatency = ResNetLatency(variants.Select(v => v.Zip).ToList(), latencyRuns);
        var pipelineLatency = PipelineLatency(variants.Select(v => v.Zip).ToList(), test.Take(Math.Min(test.Count, latencyRuns)).ToList());
        for (int i = 0; i < variants.Count; i++)
        {
            var loaded = _ml.Model.Load(variants[i].Zip, out _);
            var metrics = _ml.MulticlassClassification.Evaluate(loaded.Transform(testData), "LabelKey");
            rows.Add(new LabRow(variants[i].Name, new FileInfo(variants[i].Zip).Length, metrics.MicroAccuracy, pipelineLatency[i], resnetLatency[i], variants[i].Notes));
        }
        return rows;
    }

    /// <summary>Median milliseconds per image of PredictionEngine over the whole pipeline, the variants interleaved image by image.</summary>
    private List<double> PipelineLatency(List<string> zips, List<ImageRow> images)
    {
        var engines = zips.Select(z => _ml.Model.CreatePredictionEngine<ImageRow, Prediction>(_ml.Model.Load(z, out _))).ToList();
        foreach (var engine in engines) engine.Predict(images[0]);
        var times = zips.Select(_ => new List<double>()).ToList();
        foreach (var image in images)
        {
            for (int v = 0; v < engines.Count; v++)
            {
                var watch = Stopwatch.StartNew();
                engines[v].Predict(image);
                times[v].Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        return times.Select(Median).ToList();
    }

    /// <summary>Median milliseconds of the ResNet18 model alone in ONNX Runtime (one thread, batch 1), the variants interleaved.</summary>
    private static List<double> ResNetLatency(List<string> zips, int runs)
    {
        var sessions = zips.Select(z =>
        {
            var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            return new InferenceSession(EmbeddedModels.Largest(z), options);
        }).ToList();
        try
        {
            var input = sessions[0].InputMetadata.First();
            var dims = input.Value.Dimensions.Select(d => d <= 0 ? 1 : d).ToArray();
            var random = new Random(3);
            var values = new float[dims.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            var feed = new[] { NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<float>(values, dims)) };
            foreach (var session in sessions) session.Run(feed).Dispose();
            var times = sessions.Select(_ => new List<double>()).ToList();
            for (int r = 0; r < runs; r++)
            {
                for (int v = 0; v < sessions.Count; v++)
                {
                    var watch = Stopwatch.StartNew();
                    sessions[v].Run(feed).Dispose();
                    times[v].Add(watch.Elapsed.TotalMilliseconds);
                }
            }
            return times.Select(Median).ToList();
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The pipeline's prediction.</summary>
    private sealed class Prediction
    {
        [ColumnName("PredictedLabel")]
        public string PredictedLabel { get; set; } = "";
    }
}
