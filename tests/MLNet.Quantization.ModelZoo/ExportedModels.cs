using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.ModelZoo;

/// <summary>One exported-style model with its input generator.</summary>
/// <param name="Name">Short name, used for file names.</param>
/// <param name="Build">Builds the float model.</param>
/// <param name="Inputs">Makes a batch of <c>batch</c> inputs from a seed.</param>
/// <param name="IsClassifier">Whether argmax over the last axis is the prediction (else the output is a feature map).</param>
public sealed record ExportedModel(string Name, Func<OnnxModel> Build, Func<int, int, List<NamedOnnxValue>> Inputs, bool IsClassifier)
{
    /// <summary><paramref name="count"/> single-image samples from seeds <paramref name="firstSeed"/> on, as calibration or evaluation data.</summary>
    public CalibrationData Samples(int firstSeed, int count) =>
        CalibrationData.FromInputs(Enumerable.Range(firstSeed, count).Select(i => (IReadOnlyList<NamedOnnxValue>)Inputs(1, i)));

    /// <summary>The four models of <see cref="ExportedModelBuilder"/>.</summary>
    public static IReadOnlyList<ExportedModel> All { get; } = new[]
    {
        new ExportedModel("mobilenetv3", () => ExportedModelBuilder.MobileNetV3Block(), (batch, seed) => ImageInputs.Create("image", batch, 3, 32, 32, seed), true),
        new ExportedModel("crnn", () => ExportedModelBuilder.Crnn(), (batch, seed) => ImageInputs.Create("image", batch, 1, 32, 96, seed), true),
        new ExportedModel("detector", () => ExportedModelBuilder.DetectorHead(), (batch, seed) => ImageInputs.Create("image", batch, 3, 64, 64, seed), false),
        new ExportedModel("cntk-opset8", () => ExportedModelBuilder.CntkStyle(), (_, seed) => ImageInputs.Create("features", 1, 3, 64, 64, seed), false),
    };
}
