using ImageClassification;
using MLNet.Quantization.Tests;

namespace MLNet.Quantization.Samples.Tests.Images;

/// <summary>The image lab on a few images: the DNN-featurizer pipeline's zip quantizes (ResNet18 sits in a nested chain) and stays a working classifier.</summary>
public class ImageLabTests
{
    [Fact]
    public void A_resnet18_pipeline_zip_quantizes_statically_to_a_quarter_and_keeps_classifying()
    {
        using var folder = new TempFolder();
        var rows = new ImageLab(folder.Path).Run(trainPerClass: 8, testPerClass: 6, calibrationImages: 16, latencyRuns: 2, TextWriter.Null);

        Assert.Equal(new[] { "float", "dynamic INT8", "static INT8 (QDQ)" }, rows.Select(r => r.Name));
        var (floatRow, staticRow) = (rows[0], rows[2]);
        Assert.True(floatRow.ZipBytes >= 3.5 * staticRow.ZipBytes, $"static zip {staticRow.ZipBytes} vs float {floatRow.ZipBytes}");
        Assert.True(floatRow.Accuracy >= 0.5, $"the float classifier reached only {floatRow.Accuracy:P0} on the held-out shapes");
        Assert.True(Math.Abs(floatRow.Accuracy - staticRow.Accuracy) <= 0.125, $"float {floatRow.Accuracy:P1}, static {staticRow.Accuracy:P1} on 24 images");
        Assert.True(File.Exists(Path.Combine(folder.Path, "MLModel.static.zip")));
    }
}
