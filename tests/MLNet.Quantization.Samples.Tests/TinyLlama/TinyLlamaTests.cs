using global::TinyLlama.Lab;
using global::TinyLlama.Model;
using global::TinyLlama.Text;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests.TinyLlama;

public class TinyLlamaTests
{
    private static readonly LlamaConfig Small = new(Hidden: 64, Layers: 2, Heads: 4, KeyValueHeads: 2, Intermediate: 128, MaxPositions: 64);

    private static Dictionary<string, float[]> Weights(LlamaDecoder model) =>
        model.NamedTensors().ToDictionary(t => t.Name, t => t.Value.detach().contiguous().data<float>().ToArray());

    [Fact]
    public void The_onnx_export_matches_torchsharp_and_cached_decoding_matches_one_full_pass()
    {
        global::TorchSharp.torch.random.manual_seed(5);
        using var model = new LlamaDecoder(Small);
        using var folder = new TempFolder();
        var path = folder.File("decoder.onnx");
        OnnxModelFile.Save(LlamaOnnxBuilder.Build(Small, Weights(model)), path);
        var ids = ByteTokenizer.Encode("the plot was really good but the ending was flat");
        var (export, cache) = ExportCheck.Check(model, path, ids);
        Assert.True(export <= 1e-4, $"export max |diff| {export}");
        Assert.True(cache <= 1e-4, $"cache max |diff| {cache}");
    }

    [Fact]
    public void Weight_only_quantization_keeps_rotary_tables_float_and_block_quantizes_the_embedding()
    {
        global::TorchSharp.torch.random.manual_seed(6);
        using var model = new LlamaDecoder(Small);
        var result = OnnxQuantizer.Quantize(LlamaOnnxBuilder.Build(Small, Weights(model)), new QuantizationOptions { Mode = QuantizationMode.WeightOnly });
        var gathers = result.Report.Nodes.Where(n => n.OpType == "Gather").ToList();
        Assert.Single(gathers, n => n.Quantized && n.Detail.StartsWith("GatherBlockQuantized 4-bit", StringComparison.Ordinal));
        Assert.Equal(2, gathers.Count(n => !n.Quantized && n.Detail.Contains("rotary tables stay float", StringComparison.Ordinal)));
        Assert.Equal(Small.Layers * 7 + 1, result.Model.Graph.Node.Count(n => n.OpType == "MatMulNBits"));
    }

    [Fact]
    public void A_quick_lab_run_trains_exports_quantizes_and_measures_every_row()
    {
        using var folder = new TempFolder();
        var options = new TinyLlamaOptions
        {
            Config = Small, Steps = 40, BatchSize = 8, Window = 64, TrainReviews = 400, HeldOutReviews = 60, CalibrationWindows = 16,
            GeneratedTokens = 24, Threads = 2, OutputFolder = folder.Path,
        };
        var rows = TinyLlamaLab.Run(options, TextWriter.Null).ToDictionary(r => r.Name);
        Assert.Equal(LabVariant.All.Select(v => v.Name), rows.Keys);
        var reference = rows["float32"];
        Assert.InRange(reference.Perplexity, 1.5, 30);
        double Change(string name) => rows[name].Perplexity / reference.Perplexity - 1;
        Assert.True(Math.Abs(Change("float16")) <= 0.001, $"float16 perplexity change {Change("float16"):P3}");
        Assert.True(Math.Abs(Change("int8 weight-only b32")) <= 0.01, $"int8 change {Change("int8 weight-only b32"):P3}");
        foreach (var name in new[] { "int4 RTN b32", "int4 RTN b128", "int4 HQQ b32", "int4 GPTQ b32", "nf4 b64", "fp4 b64" })
            Assert.True(Math.Abs(Change(name)) <= 0.15, $"{name} perplexity change {Change(name):P2}");
        Assert.True(rows["int8 weight-only b32"].Agreement >= 0.95, $"int8 agreement {rows["int8 weight-only b32"].Agreement:P2}");
        Assert.True(rows["int4 RTN b32"].Bytes < rows["int8 weight-only b32"].Bytes && rows["int8 weight-only b32"].Bytes < rows["float16"].Bytes && rows["float16"].Bytes < reference.Bytes);
        Assert.All(rows.Values, r => Assert.StartsWith(options.Prompt, r.Sample));
        var report = File.ReadAllText(Path.Combine(folder.Path, "report.md"));
        Assert.Contains("| int4 GPTQ b32 |", report);
    }
}
