using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;

namespace MLNet.Quantization.Tests.TinyBert;

public class ShapeDictionaryTests
{
    private const int Sequence = 16;

    private sealed class EncoderRow
    {
        [VectorType(Sequence)] [ColumnName("input_ids")] public long[] Ids { get; set; } = Array.Empty<long>();
        [VectorType(Sequence)] [ColumnName("attention_mask")] public long[] Mask { get; set; } = Array.Empty<long>();
        [VectorType(Sequence)] [ColumnName("token_type_ids")] public long[] Types { get; set; } = Array.Empty<long>();
    }

    [Theory]
    [InlineData(QuantizationMode.Dynamic)]
    [InlineData(QuantizationMode.Static)]
    public void A_model_with_a_dynamic_sequence_quantizes_in_ml_net_given_input_shapes(QuantizationMode mode)
    {
        using var folder = new TempFolder();
        new BertCheckpoint(seed: 51).Write(folder.Path);
        var weights = new BertWeights(BertConfig.Read(folder.File("config.json")), SafetensorsFile.Read(folder.File("model.safetensors")));
        OnnxModelFile.Save(BertOnnxBuilder.Build(weights), folder.File("encoder.onnx"));
        var random = new Random(52);
        var rows = Enumerable.Range(0, 40).Select(_ =>
        {
            int length = random.Next(4, Sequence + 1);
            return new EncoderRow
            {
                Ids = Enumerable.Range(0, Sequence).Select(i => i < length ? (long)random.Next(5, BertCheckpoint.Vocabulary) : 0L).ToArray(),
                Mask = Enumerable.Range(0, Sequence).Select(i => i < length ? 1L : 0L).ToArray(),
                Types = new long[Sequence],
            };
        }).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var outputs = new[] { "pooler_output" };
        var inputs = BertOnnxBuilder.InputNames.ToArray();
        var shapes = inputs.ToDictionary(n => n, _ => new[] { 1, Sequence });

        var expected = ml.Transforms.ApplyOnnxModel(outputs, inputs, folder.File("encoder.onnx"), shapes, gpuDeviceId: null, fallbackToCpu: false, recursionLimit: 100).Fit(data).Transform(data).GetColumn<float[]>("pooler_output").SelectMany(v => v).ToArray();
        var estimator = ml.Transforms.Quantize(outputs, inputs, folder.File("encoder.onnx"), shapes, new QuantizationOptions { Mode = mode, MinimumWeightElements = 0, LatencyGuard = false });
        var actual = estimator.Fit(data).Transform(data).GetColumn<float[]>("pooler_output").SelectMany(v => v).ToArray();

        Assert.True(estimator.Report!.QuantizedNodeCount > 0);
        Assert.True(Metrics.Cosine(expected, actual) >= 0.99, $"cosine {Metrics.Cosine(expected, actual):F5}");
    }
}
