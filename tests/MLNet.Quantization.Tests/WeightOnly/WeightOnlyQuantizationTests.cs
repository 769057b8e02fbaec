using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.WeightOnly;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.WeightOnly;

public class WeightOnlyQuantizationTests
{
    private const int Rows = 3;

    private static OnnxModel SingleMatMul(int k, int n, float[] weight)
    {
        var b = new GraphBuilder("matmul");
        var x = b.Input("x", DataType.Float, (long)Rows, (long)k);
        var w = b.Initializer("w", new long[] { k, n }, weight);
        b.Node("MatMul", new[] { x, w }, "y");
        b.Output("y", DataType.Float, (long)Rows, (long)n);
        return b.Build();
    }

    private static QuantizationOptions WeightOnly(int bits, int blockSize, bool symmetric, int accuracyLevel = 0, WeightOnlyAlgorithm algorithm = WeightOnlyAlgorithm.Rtn) => new()
    {
        Mode = QuantizationMode.WeightOnly,
        MinimumWeightElements = 0,
        WeightOnly = new WeightOnlyOptions { Bits = bits, BlockSize = blockSize, Symmetric = symmetric, AccuracyLevel = accuracyLevel, Algorithm = algorithm },
    };

    private static Dictionary<string, (Array, int[])> Input(int k, int seed) => new() { ["x"] = (Metrics.RandomFloats(Rows * k, seed), new[] { Rows, k }) };

    [Theory]
    [InlineData(4, 32, false, 100, 24)]
    [InlineData(4, 16, true, 64, 8)]
    [InlineData(8, 32, false, 100, 24)]
    [InlineData(8, 64, true, 200, 16)]
    [InlineData(2, 16, false, 70, 12)]
    [InlineData(2, 32, true, 64, 10)]
    [InlineData(4, 128, false, 300, 20)]
    public void MatMulNBits_layout_matches_onnx_runtime_and_each_weight_is_within_its_rounding_error(int bits, int blockSize, bool symmetric, int k, int n)
    {
        var weight = Metrics.RandomFloats(k * n, 11, 0.2f);
        var result = OnnxQuantizer.Quantize(SingleMatMul(k, n, weight), WeightOnly(bits, blockSize, symmetric));
        var node = Assert.Single(result.Model.Graph.Node);
        Assert.Equal("MatMulNBits", node.OpType);
        Assert.Equal("com.microsoft", node.Domain);

        var dequantized = MatMulNBitsReference.Dequantize(result.Model, node);
        var x = Input(k, 5);
        var expected = MatMulNBitsReference.MatMul((float[])x["x"].Item1, Rows, dequantized, k, n);
        var actual = OrtRunner.Run(result.Model, x)["y"];
        Assert.True(Metrics.MaxAbsDiff(expected, actual) <= 1e-4 * (1 + expected.Max(MathF.Abs)), $"max diff {Metrics.MaxAbsDiff(expected, actual)}");

        int blocks = (k + blockSize - 1) / blockSize;
        var scales = TensorData.ReadFloats(result.Model.Graph.Initializer.Single(t => t.Name == node.Input[2]));
        for (int row = 0; row < k; row++)
        {
            for (int column = 0; column < n; column++)
            {
                float step = MathF.Abs(scales[column * blocks + row / blockSize]);
                float allowed = (symmetric ? 1f : 0.5f) * step * 1.0001f + 1e-7f;
                Assert.True(MathF.Abs(dequantized[row * n + column] - weight[row * n + column]) <= allowed, $"weight [{row},{column}] off by more than {(symmetric ? "one step" : "half a step")}");
            }
        }
    }

    [Theory]
    [InlineData(4, 16, false)]
    [InlineData(4, 32, true)]
    [InlineData(8, 32, false)]
    [InlineData(2, 16, false)]
    public void Embedding_tables_become_gather_block_quantized_with_the_layout_onnx_runtime_reads(int bits, int blockSize, bool symmetric)
    {
        var model = TestModels.Embedding();
        var result = OnnxQuantizer.Quantize(model, WeightOnly(bits, blockSize, symmetric));
        var node = Assert.Single(result.Model.Graph.Node);
        Assert.Equal("GatherBlockQuantized", node.OpType);
        var table = MatMulNBitsReference.DequantizeTable(result.Model, node, 32);
        var ids = new long[] { 0, 5, 99, 42, 42, 7, 63, 1, 2, 98 };
        var expected = ids.SelectMany(id => table.Skip((int)id * 32).Take(32)).ToArray();
        var inputs = new Dictionary<string, (Array, int[])> { ["ids"] = (ids, new[] { 2, 5 }) };
        Assert.Equal(expected, OrtRunner.Run(result.Model, inputs)["y"]);
        double cosine = Metrics.Cosine(OrtRunner.Run(model, inputs)["y"], expected);
        Assert.True(cosine >= (bits == 2 ? 0.8 : bits == 4 ? 0.98 : 0.9999), $"cosine with the float table {cosine:F5}");
    }

    [Fact]
    public void Int8_compute_at_accuracy_level_4_stays_close_to_the_float32_compute()
    {
        const int k = 256, n = 64;
        var model = SingleMatMul(k, n, Metrics.RandomFloats(k * n, 12, 0.1f));
        var exact = OnnxQuantizer.Quantize(model, WeightOnly(4, 32, false, accuracyLevel: 0));
        var fast = OnnxQuantizer.Quantize(model, WeightOnly(4, 32, false, accuracyLevel: 4));
        var x = Input(k, 6);
        double cosine = Metrics.Cosine(OrtRunner.Run(exact.Model, x)["y"], OrtRunner.Run(fast.Model, x)["y"]);
        Assert.True(cosine >= 0.9995, $"cosine {cosine:F6}");
        Assert.Equal(4, fast.Model.Graph.Node.Single().Attribute.Single(a => a.Name == "accuracy_level").I);
    }

    [Fact]
    public void Bias_adds_and_gemm_biases_are_folded_in_and_outputs_track_float()
    {
        var mlp = TestModels.Mlp();
        var result = OnnxQuantizer.Quantize(mlp, WeightOnly(8, 16, false) with { MinimumWeightElements = 0 });
        Assert.Equal(new[] { "MatMulNBits", "Relu", "MatMulNBits" }, result.Model.Graph.Node.Select(n => n.OpType));
        Assert.All(result.Model.Graph.Node.Where(n => n.OpType == "MatMulNBits"), n => Assert.Equal(6, n.Input.Count));
        var x = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(4 * 64, 7), new[] { 4, 64 }) };
        Assert.True(Metrics.Cosine(OrtRunner.Run(mlp, x)["y"], OrtRunner.Run(result.Model, x)["y"]) >= 0.9999);

        foreach (bool transB in new[] { false, true })
        {
            var gemm = TestModels.Gemm(transB);
            var quantized = OnnxQuantizer.Quantize(gemm, WeightOnly(4, 16, false));
            var node = Assert.Single(quantized.Model.Graph.Node);
            Assert.Equal("MatMulNBits", node.OpType);
            var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(4 * 48, 8), new[] { 4, 48 }) };
            var bias = TensorData.ReadFloats(quantized.Model.Graph.Initializer.Single(t => t.Name == node.Input[5]));
            var expected = MatMulNBitsReference.MatMul((float[])inputs["x"].Item1, 4, MatMulNBitsReference.Dequantize(quantized.Model, node), 48, 24, bias);
            Assert.True(Metrics.MaxAbsDiff(expected, OrtRunner.Run(quantized.Model, inputs)["y"]) <= 1e-4, $"transB {transB}");
            Assert.True(Metrics.Cosine(OrtRunner.Run(gemm, inputs)["y"], expected) >= 0.99, $"transB {transB}: 4-bit output far from float");
        }
    }

    [Fact]
    public void Hqq_never_reconstructs_worse_than_rtn_and_helps_heavy_tailed_weights()
    {
        const int k = 512, n = 64;
        var random = new Random(3);
        var weight = new float[k * n];
        for (int i = 0; i < weight.Length; i++)
        {
            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            weight[i] = (float)(gaussian * 0.02 * (random.NextDouble() < 0.01 ? 8 : 1));
        }
        foreach (bool symmetric in new[] { false, true })
        {
            var settings = new WeightOnlyOptions { Bits = 4, BlockSize = 64, Symmetric = symmetric };
            double rtn = SquaredError(weight, BlockQuantizer.Quantize(weight, k, n, false, settings), k, n);
            double hqq = SquaredError(weight, BlockQuantizer.Quantize(weight, k, n, false, settings with { Algorithm = WeightOnlyAlgorithm.Hqq }), k, n);
            Assert.True(hqq < 0.97 * rtn, $"symmetric {symmetric}: HQQ error {hqq:G4} vs RTN {rtn:G4}");
        }
    }

    private static double SquaredError(float[] weight, BlockQuantizedWeight quantized, int k, int n)
    {
        var b = new GraphBuilder("w");
        var x = b.Input("x", DataType.Float, 1L, (long)k);
        b.Node("MatMul", new[] { x, b.Initializer("w", new long[] { k, n }, weight) }, "y");
        b.Output("y", DataType.Float, 1L, (long)n);
        var node = new Onnx.Protos.NodeProto { OpType = "MatMulNBits" };
        node.Input.AddRange(new[] { "x", "codes", "scales", quantized.ZeroPoints is null ? "" : "zp" });
        node.Attribute.Add(OnnxAttribute.Int("K", k).Proto);
        node.Attribute.Add(OnnxAttribute.Int("N", n).Proto);
        node.Attribute.Add(OnnxAttribute.Int("bits", quantized.Bits).Proto);
        node.Attribute.Add(OnnxAttribute.Int("block_size", quantized.BlockSize).Proto);
        var model = b.Build();
        model.Graph.Initializer.Add(TensorData.FromBytes("codes", new long[] { n, quantized.BlockCount, quantized.BytesPerBlock }, DataType.Uint8, quantized.Codes));
        model.Graph.Initializer.Add(TensorData.FromFloats("scales", new long[] { n, quantized.BlockCount }, quantized.Scales));
        if (quantized.ZeroPoints is not null) model.Graph.Initializer.Add(TensorData.FromBytes("zp", new long[] { n, quantized.ZeroPointBytesPerColumn }, DataType.Uint8, quantized.ZeroPoints));
        var restored = MatMulNBitsReference.Dequantize(model, node);
        return weight.Zip(restored, (a, c) => (double)(a - c) * (a - c)).Sum();
    }

    [Fact]
    public void Four_bit_blocks_of_32_store_about_five_bits_per_weight_and_a_shared_weight_once()
    {
        var b = new GraphBuilder("shared");
        var x = b.Input("x", DataType.Float, 2L, 256L);
        var w = b.Initializer("w", new long[] { 256, 256 }, Metrics.RandomFloats(256 * 256, 9, 0.05f));
        var h = b.Node("MatMul", new[] { x, w });
        b.Node("MatMul", new[] { h, w }, "y");
        b.Output("y", DataType.Float, 2L, 256L);
        var result = OnnxQuantizer.Quantize(b.Build(), new QuantizationOptions { Mode = QuantizationMode.WeightOnly });
        Assert.All(result.Report.Nodes, n => Assert.Contains("5.12 bits/weight", n.Detail));
        Assert.Equal(3, result.Model.Graph.Initializer.Count);
        Assert.InRange(result.Report.CompressionRatio, 6.2, 6.3);
    }

    [Fact]
    public void Impossible_settings_and_misplaced_cli_options_get_one_clear_error()
    {
        Assert.Contains("2-, 4- or 8-bit", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), WeightOnly(3, 32, false))).Message);
        Assert.Contains("power of two", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), WeightOnly(4, 48, false))).Message);
        Assert.Contains("weight-only mode", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), WeightOnly(4, 32, false) with { OpTypesToQuantize = new[] { "Conv" } })).Message);
        var narrowTable = OnnxQuantizer.Quantize(TestModels.Embedding(), WeightOnly(4, 64, false));
        Assert.Contains("not a multiple of the block size (64)", Assert.Single(narrowTable.Report.Nodes).Detail);

        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(new[] { "quantize", folder.File("mlp.onnx"), "-o", folder.File("q.onnx"), "--bits", "4" }, new StringWriter(), error));
        Assert.Contains("--bits is used only with --mode weight-only", error.ToString());
        Assert.False(File.Exists(folder.File("q.onnx")));
    }

    [Fact]
    public void Cli_writes_a_weight_only_model_that_inspect_describes()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var output = new StringWriter();
        int code = CliApp.Run(new[] { "quantize", folder.File("mlp.onnx"), "-o", folder.File("q.onnx"), "--mode", "weight-only", "--bits", "8", "--block-size", "16", "--algorithm", "hqq", "--min-weight-elements", "0" }, output, new StringWriter());
        Assert.Equal(0, code);
        Assert.Contains("MatMulNBits 8-bit, block 16, asymmetric, HQQ", output.ToString());
        output = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "inspect", folder.File("q.onnx") }, output, new StringWriter()));
        Assert.Contains("weight-only (8-bit blocks of 16;", output.ToString());
        Assert.Contains("over 2 MatMulNBits, activations float", output.ToString());
    }
}
