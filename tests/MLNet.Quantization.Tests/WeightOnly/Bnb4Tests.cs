using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.WeightOnly;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.WeightOnly;

/// <summary>NF4 / FP4 weights for com.microsoft.MatMulBnb4.</summary>
public class Bnb4Tests
{
    /// <summary>NF4 as printed in the QLoRA paper's appendix (Dettmers et al. 2023), code 0 to 15.</summary>
    private static readonly float[] PublishedNf4 =
    {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f, -0.18477343022823334f,
        -0.09105003625154495f, 0f, 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /// <summary>bitsandbytes' FP4 values, code 0 to 15 (bit 3 is the sign).</summary>
    private static readonly float[] PublishedFp4 =
    {
        0f, 0.0052083333f, 0.6666667f, 1f, 0.33333333f, 0.5f, 0.16666667f, 0.25f,
        -0f, -0.0052083333f, -0.6666667f, -1f, -0.33333333f, -0.5f, -0.16666667f, -0.25f,
    };

    private const int Rows = 3;

    [Fact]
    public void The_computed_code_books_are_the_published_ones()
    {
        for (int code = 0; code < 16; code++)
        {
            Assert.True(MathF.Abs(FourBitCodeBook.Nf4[code] - PublishedNf4[code]) <= 2e-7f, $"NF4 code {code}: {FourBitCodeBook.Nf4[code]} vs {PublishedNf4[code]}");
            Assert.True(MathF.Abs(FourBitCodeBook.Fp4[code] - PublishedFp4[code]) <= 1e-7f, $"FP4 code {code}: {FourBitCodeBook.Fp4[code]} vs {PublishedFp4[code]}");
        }
    }

    /// <summary>Reads a MatMulBnb4 node back to [K, N] from the operator's specification and the published code books.</summary>
    private static float[] Dequantize(OnnxModel model, Onnx.Protos.NodeProto node)
    {
        long Attribute(string name) => node.Attribute.Single(a => a.Name == name).I;
        int k = (int)Attribute("K"), n = (int)Attribute("N"), blockSize = (int)Attribute("block_size");
        var book = Attribute("quant_type") == 1 ? PublishedNf4 : PublishedFp4;
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        byte[] codes = initializers[node.Input[1]].RawData.ToByteArray();
        float[] absmax = TensorData.ReadFloats(initializers[node.Input[2]]);
        Assert.Equal((k * n + 1) / 2, codes.Length);
        Assert.Equal((k * n + blockSize - 1) / blockSize, absmax.Length);
        var weight = new float[k * n];
        for (int flat = 0; flat < k * n; flat++)
        {
            int code = flat % 2 == 0 ? codes[flat / 2] >> 4 : codes[flat / 2] & 0xF;
            int column = flat / k, row = flat % k;
            weight[row * n + column] = book[code] * absmax[flat / blockSize];
        }
        return weight;
    }

    private static QuantizationOptions Options(WeightOnlyFormat format, int blockSize) => new()
    {
        Mode = QuantizationMode.WeightOnly,
        MinimumWeightElements = 0,
        WeightOnly = new WeightOnlyOptions { Format = format, BlockSize = blockSize },
    };

    [Theory]
    [InlineData(WeightOnlyFormat.Nf4, 64, 128, 24)]
    [InlineData(WeightOnlyFormat.Nf4, 16, 93, 7)]
    [InlineData(WeightOnlyFormat.Nf4, 256, 300, 20)]
    [InlineData(WeightOnlyFormat.Fp4, 32, 100, 24)]
    [InlineData(WeightOnlyFormat.Fp4, 128, 93, 11)]
    public void MatMulBnb4_layout_matches_onnx_runtime_and_each_weight_takes_a_near_code(WeightOnlyFormat format, int blockSize, int k, int n)
    {
        var weight = Metrics.RandomFloats(k * n, 21, 0.3f);
        var b = new GraphBuilder("matmul");
        var x = b.Input("x", DataType.Float, (long)Rows, (long)k);
        b.Node("MatMul", new[] { x, b.Initializer("w", new long[] { k, n }, weight) }, "y");
        b.Output("y", DataType.Float, (long)Rows, (long)n);
        var model = b.Build();
        var result = OnnxQuantizer.Quantize(model, Options(format, blockSize));
        var node = Assert.Single(result.Model.Graph.Node);
        Assert.Equal(("MatMulBnb4", "com.microsoft"), (node.OpType, node.Domain));
        Assert.Contains($"MatMulBnb4 {format.ToString().ToUpperInvariant()}, block {blockSize}", Assert.Single(result.Report.Nodes).Detail);

        var dequantized = Dequantize(result.Model, node);
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(Rows * k, 4), new[] { Rows, k }) };
        var expected = MatMulNBitsReference.MatMul((float[])inputs["x"].Item1, Rows, dequantized, k, n);
        var actual = OrtRunner.Run(result.Model, inputs)["y"];
        Assert.True(Metrics.MaxAbsDiff(expected, actual) <= 1e-4 * (1 + expected.Max(MathF.Abs)), $"max diff {Metrics.MaxAbsDiff(expected, actual)}");

        var book = format == WeightOnlyFormat.Nf4 ? PublishedNf4 : PublishedFp4;
        var sorted = book.Distinct().OrderBy(v => v).ToArray();
        float widestGap = sorted.Zip(sorted.Skip(1), (lo, hi) => hi - lo).Max();
        var absmax = TensorData.ReadFloats(result.Model.Graph.Initializer.Single(t => t.Name == node.Input[2]));
        for (int flat = 0; flat < k * n; flat++)
        {
            int column = flat / k, row = flat % k;
            float allowed = absmax[flat / blockSize] * widestGap / 2 * 1.0001f;
            Assert.True(MathF.Abs(dequantized[row * n + column] - weight[row * n + column]) <= allowed, $"weight [{row},{column}] is not at a neighbouring code");
        }
        double cosine = Metrics.Cosine(OrtRunner.Run(model, inputs)["y"], actual);
        Assert.True(cosine >= 0.98, $"cosine with float {cosine:F4}");
    }

    [Fact]
    public void Nf4_reconstructs_normally_distributed_weights_better_than_fp4()
    {
        const int k = 512, n = 64;
        var random = new Random(8);
        var weight = new float[k * n];
        for (int i = 0; i < weight.Length; i++)
            weight[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * 0.02);
        double Error(WeightOnlyFormat format)
        {
            var q = Bnb4Quantizer.Quantize(weight, k, n, transposed: false, format, 64);
            var book = format == WeightOnlyFormat.Nf4 ? PublishedNf4 : PublishedFp4;
            double sum = 0;
            for (int flat = 0; flat < k * n; flat++)
            {
                int code = flat % 2 == 0 ? q.Codes[flat / 2] >> 4 : q.Codes[flat / 2] & 0xF;
                double e = book[code] * q.Absmax[flat / 64] - weight[(flat % k) * n + flat / k];
                sum += e * e;
            }
            return sum;
        }
        double nf4 = Error(WeightOnlyFormat.Nf4), fp4 = Error(WeightOnlyFormat.Fp4);
        Assert.True(nf4 < 0.9 * fp4, $"NF4 squared error {nf4:G4} vs FP4 {fp4:G4}");
    }

    [Fact]
    public void Gemm_with_a_bias_becomes_matmul_bnb4_and_an_add_in_either_weight_layout()
    {
        foreach (bool transB in new[] { false, true })
        {
            var gemm = TestModels.Gemm(transB);
            var result = OnnxQuantizer.Quantize(gemm, Options(WeightOnlyFormat.Nf4, 16));
            Assert.Equal(new[] { "MatMulBnb4", "Add" }, result.Model.Graph.Node.Select(n => n.OpType));
            var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(4 * 48, 8), new[] { 4, 48 }) };
            var bias = TensorData.ReadFloats(result.Model.Graph.Initializer.Single(t => t.Name == result.Model.Graph.Node[1].Input[1]));
            var expected = MatMulNBitsReference.MatMul((float[])inputs["x"].Item1, 4, Dequantize(result.Model, result.Model.Graph.Node[0]), 48, 24, bias);
            Assert.True(Metrics.MaxAbsDiff(expected, OrtRunner.Run(result.Model, inputs)["y"]) <= 1e-4, $"transB {transB}");
            Assert.True(Metrics.Cosine(OrtRunner.Run(gemm, inputs)["y"], expected) >= 0.99, $"transB {transB}: NF4 output far from float");
        }
    }

    [Fact]
    public void Embedding_tables_use_integer_blocks_under_nf4()
    {
        var result = OnnxQuantizer.Quantize(TestModels.Embedding(), Options(WeightOnlyFormat.Nf4, 32));
        Assert.Equal("GatherBlockQuantized", Assert.Single(result.Model.Graph.Node).OpType);
        Assert.Contains("GatherBlockQuantized 4-bit, block 32", Assert.Single(result.Report.Nodes).Detail);
    }

    [Fact]
    public void Impossible_code_book_settings_and_misplaced_formats_get_one_clear_error()
    {
        var bits = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), Options(WeightOnlyFormat.Nf4, 32) with { WeightOnly = new WeightOnlyOptions { Format = WeightOnlyFormat.Nf4, Bits = 8 } }));
        Assert.Contains("Nf4 codes have 4 bits", bits.Message);
        var algorithm = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), Options(WeightOnlyFormat.Fp4, 32) with { WeightOnly = new WeightOnlyOptions { Format = WeightOnlyFormat.Fp4, Algorithm = WeightOnlyAlgorithm.Hqq } }));
        Assert.Contains("HQQ and GPTQ apply to the Integer format", algorithm.Message);

        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(new[] { "quantize", folder.File("mlp.onnx"), "-o", folder.File("q.onnx"), "--format", "nf4" }, new StringWriter(), error));
        Assert.Contains("--format nf4 is used only with --mode weight-only", error.ToString());
        error = new StringWriter();
        Assert.Equal(2, CliApp.Run(new[] { "quantize", folder.File("mlp.onnx"), "-o", folder.File("q.onnx"), "--mode", "weight-only", "--format", "qoperator" }, new StringWriter(), error));
        Assert.Contains("weight-only mode takes --format int, nf4 or fp4", error.ToString());
        Assert.False(File.Exists(folder.File("q.onnx")));

        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "quantize", folder.File("mlp.onnx"), "-o", folder.File("q.onnx"), "--mode", "weight-only", "--format", "fp4", "--block-size", "64", "--min-weight-elements", "0" }, output, new StringWriter()));
        Assert.Contains("MatMulBnb4 FP4, block 64", output.ToString());
        output = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "inspect", folder.File("q.onnx") }, output, new StringWriter()));
        Assert.Contains("weight-only (FP4 blocks of 64;", output.ToString());
        Assert.Contains("over 2 MatMulBnb4, activations float", output.ToString());
    }
}
