using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;

namespace MLNet.Quantization.Tests.TinyBert;

public class BertEncoderTests
{
    private const int Batch = 2, Sequence = 10;

    private static (long[] Ids, long[] Mask, long[] Types) Inputs(int seed)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(0, Batch * Sequence).Select(_ => (long)random.Next(BertCheckpoint.Vocabulary)).ToArray();
        var mask = Enumerable.Range(0, Batch * Sequence).Select(i => i >= Sequence && i % Sequence >= Sequence - 3 ? 0L : 1L).ToArray();
        var types = Enumerable.Range(0, Batch * Sequence).Select(i => i % Sequence >= Sequence / 2 ? 1L : 0L).ToArray();
        return (ids, mask, types);
    }

    private static Dictionary<string, float[]> Run(OnnxModel model, (long[] Ids, long[] Mask, long[] Types) inputs)
    {
        using var session = new InferenceSession(OnnxModelFile.ToBytes(model));
        var dims = new[] { Batch, Sequence };
        using var results = session.Run(new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(inputs.Ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(inputs.Mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(inputs.Types, dims)),
        });
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    private static OnnxModel BuildFromFolder(BertCheckpoint checkpoint, string folder)
    {
        checkpoint.Write(folder);
        var config = BertConfig.Read(Path.Combine(folder, "config.json"));
        return BertOnnxBuilder.Build(new BertWeights(config, SafetensorsFile.Read(Path.Combine(folder, "model.safetensors"))));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bert.")]
    public void Builder_graph_matches_an_independent_bert_computation(string prefix)
    {
        using var folder = new TempFolder();
        var checkpoint = new BertCheckpoint(seed: 11, prefix);
        var model = BuildFromFolder(checkpoint, folder.Path);
        var inputs = Inputs(12);
        var outputs = Run(model, inputs);
        var unprefixed = prefix.Length == 0 ? checkpoint : Unprefixed(checkpoint, prefix);

        double maxDiff = 0;
        for (int n = 0; n < Batch; n++)
        {
            var slice = Enumerable.Range(n * Sequence, Sequence);
            var (hidden, pooled) = BertReference.Run(unprefixed, slice.Select(i => inputs.Ids[i]).ToArray(), slice.Select(i => inputs.Mask[i]).ToArray(), slice.Select(i => inputs.Types[i]).ToArray());
            for (int t = 0; t < Sequence; t++)
                for (int i = 0; i < BertCheckpoint.Hidden; i++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(hidden[t, i] - outputs["last_hidden_state"][(n * Sequence + t) * BertCheckpoint.Hidden + i]));
            for (int i = 0; i < BertCheckpoint.Hidden; i++)
                maxDiff = Math.Max(maxDiff, Math.Abs(pooled[i] - outputs["pooler_output"][n * BertCheckpoint.Hidden + i]));
        }
        Assert.True(maxDiff <= 1e-4, $"max abs diff {maxDiff:G3}");
    }

    [Fact]
    public void The_encoder_quantizes_dynamically_and_statically()
    {
        using var folder = new TempFolder();
        var model = BuildFromFolder(new BertCheckpoint(seed: 21), folder.Path);
        var inputs = Inputs(22);
        var reference = Run(model, inputs)["last_hidden_state"];
        var options = new QuantizationOptions { MinimumWeightElements = 0 };
        var dynamic = OnnxQuantizer.Quantize(model, options);
        var calibration = CalibrationData.FromInputs(Enumerable.Range(0, 16).Select(seed =>
        {
            var (ids, mask, types) = Inputs(100 + seed);
            var dims = new[] { Batch, Sequence };
            return (IReadOnlyList<NamedOnnxValue>)new[]
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, dims)),
            };
        }));
        var statically = OnnxQuantizer.Quantize(model, options with { Mode = QuantizationMode.Static, LatencyGuard = false }, calibration);

        Assert.True(Metrics.Cosine(reference, Run(dynamic.Model, inputs)["last_hidden_state"]) >= 0.99);
        Assert.True(Metrics.Cosine(reference, Run(statically.Model, inputs)["last_hidden_state"]) >= 0.99);
    }

    [Fact]
    public void Safetensors_half_precision_is_converted_and_bad_files_are_named()
    {
        using var folder = new TempFolder();
        var half = new[] { (Half)1.5f, (Half)(-2f) }.SelectMany(h => BitConverter.GetBytes(h)).ToArray();
        var bfloat = new[] { 3.25f, -0.5f }.SelectMany(f => BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(f) >> 16))).ToArray();
        File.WriteAllBytes(folder.File("half.safetensors"), BertCheckpoint.Safetensors(new()
        {
            ["a"] = (new long[] { 2 }, "F16", half),
            ["b"] = (new long[] { 1, 2 }, "BF16", bfloat),
        }));
        var tensors = SafetensorsFile.Read(folder.File("half.safetensors"));
        Assert.Equal(new[] { 1.5f, -2f }, tensors["a"].Values);
        Assert.Equal(new[] { 3.25f, -0.5f }, tensors["b"].Values);
        Assert.Equal(new long[] { 1, 2 }, tensors["b"].Shape);

        var bytes = File.ReadAllBytes(folder.File("half.safetensors"));
        File.WriteAllBytes(folder.File("cut.safetensors"), bytes.Take(bytes.Length - 2).ToArray());
        Assert.Contains("outside", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(folder.File("cut.safetensors"))).Message);
        File.WriteAllBytes(folder.File("int.safetensors"), BertCheckpoint.Safetensors(new() { ["i"] = (new long[] { 1 }, "I64", new byte[8]) }));
        Assert.Contains("dtype I64", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(folder.File("int.safetensors"))).Message);
        File.WriteAllBytes(folder.File("junk.safetensors"), new byte[] { 1, 2, 3 });
        Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(folder.File("junk.safetensors")));
    }

    [Fact]
    public void A_checkpoint_that_is_not_bert_or_does_not_match_its_config_is_refused()
    {
        var config = new BertConfig(VocabularySize: BertCheckpoint.Vocabulary, HiddenSize: BertCheckpoint.Hidden, Layers: 2, Heads: 2, IntermediateSize: BertCheckpoint.Intermediate, MaxPositions: BertCheckpoint.Positions);
        var tensors = new BertCheckpoint(seed: 1).Tensors.ToDictionary(kv => kv.Key, kv => new NamedTensor(kv.Key, kv.Value.Shape, kv.Value.Values));
        var wrongHidden = config with { HiddenSize = 32 };
        Assert.Contains("config.json implies", Assert.Throws<InvalidDataException>(() => new BertWeights(wrongHidden, tensors)).Message);
        tensors.Remove("encoder.layer.1.output.dense.weight");
        Assert.Contains("encoder.layer.1.output.dense.weight", Assert.Throws<InvalidDataException>(() => BertOnnxBuilder.Build(new BertWeights(config, tensors))).Message);
    }

    private static BertCheckpoint Unprefixed(BertCheckpoint checkpoint, string prefix)
    {
        var copy = new BertCheckpoint(seed: 0);
        copy.Tensors.Clear();
        foreach (var (name, value) in checkpoint.Tensors) copy.Tensors[name[prefix.Length..]] = value;
        return copy;
    }
}
