using System.Globalization;
using ImageClassification;

// The image-classification lab: the classic ML.NET pipeline with ML.NET's pretrained ResNet18 featurizer, trained on
// generated shape images (no download), saved as MLModel.zip, quantized as a zip and evaluated.
// Usage: ImageClassification [--output DIR] [--train N] [--test N] [--calibration N] [--runs N]  (N per class for train/test)
string output = Path.Combine(Path.GetTempPath(), "mlnet-quantization-images");
int train = 40, test = 30, calibration = 64, runs = 30;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--output": output = Next(); break;
        case "--train": train = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--test": test = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--calibration": calibration = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"error: unknown argument '{args[i]}'. Usage: ImageClassification [--output DIR] [--train N] [--test N] [--calibration N] [--runs N]");
            return 2;
    }
}
Directory.CreateDirectory(output);
Console.WriteLine($"Built-in data: generated shape images (circle, square, triangle, ring); output in {output}.");
var rows = new ImageLab(output).Run(train, test, calibration, runs, Console.Out);
var report = LabReport.Write(rows, Path.Combine(output, "report.md"));
Console.WriteLine(report);
return 0;
