using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Quantization;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Samples.QuickStart;

// QuickStart: build a float ONNX model in code, run it in ML.NET with ApplyOnnxModel and with Transforms.Quantize,
// and compare size, output agreement and latency. Writes the .onnx files and both ML.NET model zips to ./quickstart-output.
var outputFolder = Path.GetFullPath(args.FirstOrDefault() ?? "quickstart-output");
Directory.CreateDirectory(outputFolder);
var floatPath = Path.Combine(outputFolder, "classifier.onnx");
OnnxModelFile.Save(ClassifierModel.Build(), floatPath);
Console.WriteLine($"Built a float classifier (512 -> 1024 -> 1024 -> 10): {floatPath}");

var mlContext = new MLContext(seed: 0);
mlContext.Log += (_, e) => { if (e.Source.StartsWith("Quantize", StringComparison.Ordinal) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) Console.WriteLine($"  [ML.NET log] {e.Message.TrimEnd()}"); };
var data = mlContext.Data.LoadFromEnumerable(ClassifierModel.Rows(count: 512, seed: 1));

var floatModel = mlContext.Transforms.ApplyOnnxModel(floatPath).Fit(data);
var quantizer = mlContext.Transforms.Quantize(floatPath);
var quantizedModel = quantizer.Fit(data);

var floatScores = Score(floatModel, data);
var quantizedScores = Score(quantizedModel, data);
double floatMs = Time(floatModel, data), quantizedMs = Time(quantizedModel, data);
var quantizedBytes = quantizer.Result!.ToBytes().LongLength;
long floatBytes = new FileInfo(floatPath).Length;

int agreeing = floatScores.Zip(quantizedScores).Count(p => ArgMax(p.First) == ArgMax(p.Second));
Console.WriteLine();
Console.WriteLine($"{"model",-10} {"ONNX size",12} {"ms / 512 rows",14} {"top-1 agreement",16}");
Console.WriteLine($"{"float",-10} {floatBytes / 1024.0,9:F0} KiB {floatMs,14:F1} {"-",16}");
Console.WriteLine($"{"dynamic",-10} {quantizedBytes / 1024.0,9:F0} KiB {quantizedMs,14:F1} {100.0 * agreeing / floatScores.Length,15:F1}%");
Console.WriteLine($"size {(double)floatBytes / quantizedBytes:F2}x smaller, latency ratio {quantizedMs / floatMs:F2}, max abs diff {MaxAbsDiff(floatScores, quantizedScores):G3}");

mlContext.Model.Save(floatModel, data.Schema, Path.Combine(outputFolder, "float-model.zip"));
mlContext.Model.Save(quantizedModel, data.Schema, Path.Combine(outputFolder, "quantized-model.zip"));
var reloaded = new MLContext().Model.Load(Path.Combine(outputFolder, "quantized-model.zip"), out _);
bool sameAfterReload = Score(reloaded, data).SelectMany(v => v).SequenceEqual(quantizedScores.SelectMany(v => v));
Console.WriteLine($"Saved float-model.zip and quantized-model.zip to {outputFolder}; reloaded quantized zip gives identical scores: {sameAfterReload}");
return sameAfterReload ? 0 : 1;

static float[][] Score(ITransformer model, IDataView data) => model.Transform(data).GetColumn<float[]>("scores").ToArray();

static double Time(ITransformer model, IDataView data)
{
    Score(model, data);
    var times = new List<double>();
    for (int i = 0; i < 5; i++)
    {
        var stopwatch = Stopwatch.StartNew();
        Score(model, data);
        times.Add(stopwatch.Elapsed.TotalMilliseconds);
    }
    return times.OrderBy(t => t).ElementAt(times.Count / 2);
}

static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

static double MaxAbsDiff(float[][] a, float[][] b) => a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
