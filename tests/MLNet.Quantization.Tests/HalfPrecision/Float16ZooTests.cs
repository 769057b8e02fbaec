using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests.HalfPrecision;

/// <summary>Float16 mode on models shaped like other tools' exports, judged against ONNX Runtime running the float model.</summary>
public class Float16ZooTests
{
    private static float[] Run(byte[] model, List<NamedOnnxValue> inputs)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>().ToArray();
    }

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in ExportedModel.All.Select(m => m.Name).Append("bert"))
            foreach (var halfCompute in new[] { true, false }) data.Add(name, halfCompute);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Converted_models_load_halve_their_weights_and_match_float(string name, bool halfCompute)
    {
        var shape = new BertShape(Vocabulary: 200, Hidden: 64, Layers: 2, Heads: 2, FeedForward: 128, MaxPositions: 16, Sequence: 8);
        var model = name == "bert" ? BertModelBuilder.Build(shape) : ExportedModel.All.Single(m => m.Name == name).Build();
        var inputs = name == "bert" ? BertInputs.Create(2, shape, 11) : ExportedModel.All.Single(m => m.Name == name).Inputs(2, 7001);
        var result = OnnxQuantizer.Quantize(model, new QuantizationOptions { Mode = QuantizationMode.Float16, Float16 = new Float16Options { HalfCompute = halfCompute } });

        Assert.True(result.Report.CompressionRatio >= 1.8, $"{name}: {result.Report}");
        double cosine = Metrics.Cosine(Run(OnnxModelFile.ToBytes(model), inputs), Run(result.ToBytes(), inputs));
        Assert.True(cosine >= 0.9999, $"{name}: cosine {cosine:F6}\n{result.Report}");
    }
}
