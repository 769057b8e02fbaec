using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>Ranges saved by one run and reused by another give the same model without reading calibration data.</summary>
public class CalibrationFileTests
{
    private static readonly ExportedModel Detector = ExportedModel.All.Single(m => m.Name == "detector");

    [Fact]
    public void Saved_ranges_reproduce_the_model_without_calibration_data_and_bad_files_are_refused()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(Detector.Build(), folder.File("f.onnx"));
        for (int i = 0; i < 12; i++) TestDataSets.Write(folder.File($"cal/test_data_set_{i}"), Detector.Inputs(1, 100 + i));
        string[] Quantize(string output, params string[] extra) =>
            new[] { "quantize", folder.File("f.onnx"), "-o", folder.File(output), "--mode", "static", "--latency-guard", "false" }.Concat(extra).ToArray();

        Assert.Equal(0, CliApp.Run(Quantize("a.onnx", "--calibration-data", folder.File("cal"), "--save-calibration", folder.File("ranges.json")), new StringWriter(), new StringWriter()));
        Assert.Equal(0, CliApp.Run(Quantize("b.onnx", "--calibration-file", folder.File("ranges.json")), new StringWriter(), new StringWriter()));
        Assert.Equal(File.ReadAllBytes(folder.File("a.onnx")), File.ReadAllBytes(folder.File("b.onnx")));

        var loaded = CalibrationResult.Load(folder.File("ranges.json"));
        Assert.NotEmpty(loaded.RangesFor(CalibrationMethod.MinMax));
        Assert.Empty(loaded.RangesFor(CalibrationMethod.Entropy));
        var entropy = new StringWriter();
        Assert.Equal(CliApp.Failure, CliApp.Run(Quantize("c.onnx", "--calibration-file", folder.File("ranges.json"), "--calibration-method", "entropy"), new StringWriter(), entropy));
        Assert.Contains("have no Entropy range", entropy.ToString(), StringComparison.Ordinal);

        File.WriteAllText(folder.File("broken.json"), "{ \"Ranges\": { \"MinMax\": { \"t\": [2, 1] } } }");
        var broken = new StringWriter();
        Assert.Equal(CliApp.Failure, CliApp.Run(Quantize("d.onnx", "--calibration-file", folder.File("broken.json")), new StringWriter(), broken));
        Assert.Contains("min <= max", broken.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("c.onnx")) || File.Exists(folder.File("d.onnx")));

        var other = Assert.Throws<InvalidOperationException>(() => OnnxQuantizer.Quantize(ExportedModelBuilder.Crnn(), new QuantizationOptions { Mode = QuantizationMode.Static, Calibration = loaded }, (CalibrationData?)null));
        Assert.Contains("observed on the model 'detector'", other.Message, StringComparison.Ordinal);
    }
}
