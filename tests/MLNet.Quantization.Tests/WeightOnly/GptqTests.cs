using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.WeightOnly;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.WeightOnly;

public class GptqTests
{
    private const int K = 128, N = 48, Rows = 8;

    /// <summary>Inputs with correlated features of very different scales, as real activations have (a random mix of 16 factors plus noise).</summary>
    private static float[] CorrelatedInputs(int rows, int seed) => Correlated(rows, K, mixingSeed: 100, factorSeed: seed, noiseSeed: seed + 1, noiseScale: 0.05f);

    private static OnnxModel Linear(float[] weight)
    {
        var b = new GraphBuilder("linear");
        var x = b.Input("x", DataType.Float, "rows", (long)K);
        b.Node("MatMul", new[] { x, b.Initializer("w", new long[] { K, N }, weight) }, "y");
        b.Output("y", DataType.Float, "rows", (long)N);
        return b.Build();
    }

    private static CalibrationData Samples(int count, int seed) => CalibrationData.FromInputs(Enumerable.Range(0, count).Select(i =>
        (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(CorrelatedInputs(Rows, seed + 10 * i), new[] { Rows, K })) }));

    private static QuantizationOptions Options(WeightOnlyAlgorithm algorithm) => new()
    {
        Mode = QuantizationMode.WeightOnly,
        WeightOnly = new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = algorithm, AccuracyLevel = 0 },
    };

    private static double OutputError(OnnxModel floatModel, OnnxModel quantized, float[] x)
    {
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (x, new[] { x.Length / K, K }) };
        var expected = OrtRunner.Run(floatModel, inputs)["y"];
        var actual = OrtRunner.Run(quantized, inputs)["y"];
        return expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum();
    }

    [Fact]
    public void Gptq_output_error_on_held_out_inputs_is_well_below_rtn()
    {
        var model = Linear(Metrics.RandomFloats(K * N, 7, 0.1f));
        var rtn = OnnxQuantizer.Quantize(model, Options(WeightOnlyAlgorithm.Rtn));
        var gptq = OnnxQuantizer.Quantize(model, Options(WeightOnlyAlgorithm.Gptq), Samples(64, 1000));
        Assert.Contains("GPTQ", Assert.Single(gptq.Report.Nodes).Detail);

        var heldOut = CorrelatedInputs(64, 5000);
        double rtnError = OutputError(model, rtn.Model, heldOut), gptqError = OutputError(model, gptq.Model, heldOut);
        Assert.True(gptqError < 0.7 * rtnError, $"GPTQ {gptqError:G4} vs RTN {rtnError:G4}");

        var node = Assert.Single(gptq.Model.Graph.Node);
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (heldOut, new[] { 64, K }) };
        var reference = MatMulNBitsReference.MatMul(heldOut, 64, MatMulNBitsReference.Dequantize(gptq.Model, node), K, N);
        Assert.True(Metrics.MaxAbsDiff(reference, OrtRunner.Run(gptq.Model, inputs)["y"]) <= 1e-3);
    }

    private static OnnxModel TwoLayers(float[] first, float[] second)
    {
        var b = new GraphBuilder("two_layers");
        var x = b.Input("x", DataType.Float, "rows", (long)K);
        var hidden = b.Node("MatMul", new[] { x, b.Initializer("w1", new long[] { K, K }, first) }, "h");
        var active = b.Node("Relu", new[] { hidden }, "a");
        b.Node("MatMul", new[] { active, b.Initializer("w2", new long[] { K, N }, second) }, "y");
        b.Output("y", DataType.Float, "rows", (long)N);
        return b.Build();
    }

    /// <summary>Σ xᵀx over rows of K, in plain double loops.</summary>
    private static double[] Hessian(IEnumerable<float[]> samples)
    {
        var h = new double[K * K];
        foreach (var x in samples)
            for (int r = 0; r < x.Length / K; r++)
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) h[i * K + j] += (double)x[r * K + i] * x[r * K + j];
        return h;
    }

    private static float[] Relu(float[] values) => values.Select(v => Math.Max(v, 0f)).ToArray();

    private static double CodeAgreement(byte[] expected, byte[] actual) =>
        (double)expected.Zip(actual).Sum(p => ((p.First & 15) == (p.Second & 15) ? 1 : 0) + ((p.First >> 4) == (p.Second >> 4) ? 1 : 0)) / (2.0 * expected.Length);

    [Fact]
    public void Gptq_calibrates_each_layer_on_the_outputs_of_the_layers_already_quantized()
    {
        var w1 = Metrics.RandomFloats(K * K, 21, 0.15f);
        var w2 = Metrics.RandomFloats(K * N, 22, 0.1f);
        var model = TwoLayers(w1, w2);
        var samples = Enumerable.Range(0, 32).Select(i => CorrelatedInputs(Rows, 1000 + 10 * i)).ToList();
        var data = CalibrationData.FromInputs(samples.Select(x => (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, new[] { Rows, K })) }));
        var settings = Options(WeightOnlyAlgorithm.Gptq);
        var gptq = OnnxQuantizer.Quantize(model, settings, data);
        var nodes = gptq.Model.Graph.Node;
        Assert.Equal(new[] { "MatMulNBits", "Relu", "MatMulNBits" }, nodes.Select(n => n.OpType));
        byte[] Codes(int node) => TensorData.ReadBytes(gptq.Model.Graph.Initializer.Single(t => t.Name == nodes[node].Input[1]), null).ToArray();

        var firstExpected = GptqSolver.Quantize((float[])w1.Clone(), K, K, SymmetricMatrix.FromFull(Hessian(samples), K), settings.WeightOnly);
        Assert.Equal(firstExpected.Codes, Codes(0));

        var quantizedFirst = MatMulNBitsReference.Dequantize(gptq.Model, nodes[0]);
        var throughQuantized = samples.Select(x => Relu(MatMulNBitsReference.MatMul(x, Rows, quantizedFirst, K, K))).ToList();
        var throughFloat = samples.Select(x => Relu(MatMulNBitsReference.MatMul(x, Rows, w1, K, K))).ToList();
        var sequential = GptqSolver.Quantize((float[])w2.Clone(), K, N, SymmetricMatrix.FromFull(Hessian(throughQuantized), K), settings.WeightOnly);
        var onFloat = GptqSolver.Quantize((float[])w2.Clone(), K, N, SymmetricMatrix.FromFull(Hessian(throughFloat), K), settings.WeightOnly);
        double sequentialAgreement = CodeAgreement(sequential.Codes, Codes(2)), floatAgreement = CodeAgreement(onFloat.Codes, Codes(2));
        Assert.True(sequentialAgreement >= 0.99 && floatAgreement < sequentialAgreement - 0.02,
            $"second layer's codes agree {sequentialAgreement:P2} with GPTQ on the quantized first layer's outputs, {floatAgreement:P2} with GPTQ on float's");
    }

    [Fact]
    public void Weights_that_read_the_same_input_share_one_factor_and_each_gets_its_own_gptq_solution()
    {
        var wa = Metrics.RandomFloats(K * N, 41, 0.1f);
        var wb = Metrics.RandomFloats(K * N, 42, 0.1f);
        var b = new GraphBuilder("shared_input");
        var x = b.Input("x", DataType.Float, "rows", (long)K);
        b.Node("MatMul", new[] { x, b.Initializer("wa", new long[] { K, N }, wa) }, "ya");
        b.Node("MatMul", new[] { x, b.Initializer("wb", new long[] { K, N }, wb) }, "yb");
        b.Output("ya", DataType.Float, "rows", (long)N);
        b.Output("yb", DataType.Float, "rows", (long)N);
        var samples = Enumerable.Range(0, 24).Select(i => CorrelatedInputs(Rows, 2000 + 10 * i)).ToList();
        var data = CalibrationData.FromInputs(samples.Select(v => (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(v, new[] { Rows, K })) }));
        foreach (bool actOrder in new[] { false, true })
        {
            var settings = Options(WeightOnlyAlgorithm.Gptq);
            settings = settings with { WeightOnly = settings.WeightOnly with { GptqActOrder = actOrder } };
            var gptq = OnnxQuantizer.Quantize(b.Build(), settings, data).Model;
            foreach (var (node, weight) in gptq.Graph.Node.Zip(new[] { wa, wb }))
            {
                var expected = GptqSolver.Quantize((float[])weight.Clone(), K, N, SymmetricMatrix.FromFull(Hessian(samples), K), settings.WeightOnly);
                Assert.Equal(expected.Codes, TensorData.ReadBytes(gptq.Graph.Initializer.Single(t => t.Name == node.Input[1]), null).ToArray());
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_weight_wider_than_one_column_slab_is_read_and_solved_in_slabs_with_the_codes_of_the_whole(bool transposed)
    {
        const int k = 64, n = GptqSolver.ColumnSlab + 904;
        var weight = Metrics.RandomFloats(k * n, 51, 0.1f);
        var b = new GraphBuilder("wide");
        var x = b.Input("x", DataType.Float, "rows", (long)k);
        if (transposed)
        {
            var stored = new float[n * k];
            for (int r = 0; r < k; r++)
                for (int c = 0; c < n; c++) stored[c * k + r] = weight[r * n + c];
            b.Node("Gemm", new[] { x, b.Initializer("w", new long[] { n, k }, stored) }, "y", OnnxAttribute.Int("transB", 1));
        }
        else
        {
            b.Node("MatMul", new[] { x, b.Initializer("w", new long[] { k, n }, weight) }, "y");
        }
        b.Output("y", DataType.Float, "rows", (long)n);
        using var folder = new TempFolder();
        OnnxModelFile.Save(b.Build(), folder.File("wide.onnx"), ExternalDataMode.Always);
        var samples = Enumerable.Range(0, 16).Select(i => CorrelatedInputs(Rows, 3000 + 10 * i).Take(Rows * k).ToArray()).ToList();
        var data = CalibrationData.FromInputs(samples.Select(v => (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(v, new[] { Rows, k })) }));
        var options = Options(WeightOnlyAlgorithm.Gptq);
        var hessian = new double[k * k];
        foreach (var v in samples)
            for (int r = 0; r < Rows; r++)
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) hessian[i * k + j] += (double)v[r * k + i] * v[r * k + j];
        var expected = GptqSolver.Quantize((float[])weight.Clone(), k, n, SymmetricMatrix.FromFull(hessian, k), options.WeightOnly);

        OnnxQuantizer.QuantizeFile(folder.File("wide.onnx"), folder.File("q.onnx"), options, ExternalDataMode.Always, null, data);
        var quantized = OnnxModelFile.Load(folder.File("q.onnx"));
        var node = Assert.Single(quantized.Graph.Node);
        Assert.Equal(expected.Codes, quantized.ReadTensorBytes(quantized.Graph.Initializer.Single(t => t.Name == node.Input[1])).ToArray());
        Assert.Equal(expected.Scales, TensorData.ReadFloats(quantized.Graph.Initializer.Single(t => t.Name == node.Input[2]), quantized.BaseDirectory));
        Assert.Equal(expected.ZeroPoints, quantized.ReadTensorBytes(quantized.Graph.Initializer.Single(t => t.Name == node.Input[3])).ToArray());
    }

    /// <summary>Rows of <paramref name="width"/> correlated features of different scales: a seeded random mix of 16 factors plus noise.</summary>
    private static float[] Correlated(int rows, int width, int mixingSeed, int factorSeed, int noiseSeed, float noiseScale)
    {
        var mixing = Metrics.RandomFloats(16 * width, mixingSeed, 1f);
        var factors = Metrics.RandomFloats(rows * 16, factorSeed, 1f);
        var noise = Metrics.RandomFloats(rows * width, noiseSeed, noiseScale);
        var x = new float[rows * width];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < width; c++)
            {
                double sum = noise[r * width + c];
                for (int f = 0; f < 16; f++) sum += factors[r * 16 + f] * mixing[f * width + c];
                x[r * width + c] = (float)(sum * (1 + 3 * (c % 7) / 6.0));
            }
        return x;
    }

    [Fact]
    public void The_blocked_in_place_factorisation_matches_a_full_matrix_gptq_over_several_blocks()
    {
        const int k = 600, n = 16, rows = 700;
        var x = Correlated(rows, k, mixingSeed: 77, factorSeed: 78, noiseSeed: 79, noiseScale: 0.3f);
        var full = new double[k * k];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) full[i * k + j] += (double)x[r * k + i] * x[r * k + j];
        var packed = new SymmetricMatrix(k);
        packed.AddOuterProducts(x);
        for (int i = 0; i < k; i += 7)
            for (int j = 0; j < k; j += 5) Assert.Equal(full[i * k + j], packed[i, j], 1e-9 * Math.Abs(full[i * k + j]) + 1e-9);

        var settings = new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Gptq };
        var expectedFactor = GptqReference.InverseFactor(full, k, settings.GptqDamping);
        var factor = GptqFactor.Of(SymmetricMatrix.FromFull(full, k), settings).Inverse;
        double largest = expectedFactor.Max(Math.Abs), worst = 0;
        for (int i = 0; i < k; i++)
            for (int j = i; j < k; j++) worst = Math.Max(worst, Math.Abs(factor[i, j] - expectedFactor[i * k + j]));
        Assert.True(worst <= 1e-9 * largest, $"inverse factor differs by {worst:E2} (largest entry {largest:E2})");

        var weight = Metrics.RandomFloats(k * n, 78, 0.2f);
        var solved = GptqSolver.Quantize((float[])weight.Clone(), k, n, packed, settings);
        var reference = GptqReference.Quantize(weight, k, n, full, settings);
        int blocks = k / 32 + (k % 32 == 0 ? 0 : 1), same = 0;
        for (int row = 0; row < k; row++)
            for (int c = 0; c < n; c++)
                if (BitPacking.Get(solved.Codes.AsSpan((c * blocks + row / 32) * 16, 16), row % 32, 4) == reference[row * n + c]) same++;
        Assert.True(same >= 0.995 * k * n, $"{same} of {k * n} codes agree with the full-matrix GPTQ");
    }

    /// <summary>
    /// x → MatMul(w1, a Constant node) → Relu → MatMul(w2) → Add x (x kept across two layers) → Mul(scale, a
    /// Constant node) → Reshape(shape from Constant value_ints) → Mul(gain, in the data file) → MatMul(w3); input 5 of
    /// x is always zero (a dead input).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gptq_follows_a_residual_stream_through_three_layers_with_a_dead_input_and_constant_node_weights(bool actOrder)
    {
        var w1 = Metrics.RandomFloats(K * K, 61, 0.15f);
        var w2 = Metrics.RandomFloats(K * K, 62, 0.1f);
        var w3 = Metrics.RandomFloats(K * N, 63, 0.1f);
        var scale = Metrics.RandomFloats(K, 64, 0.5f).Select(v => 1 + v).ToArray();
        var gain = Metrics.RandomFloats(K, 65, 0.5f).Select(v => 1 + v).ToArray();
        var b = new GraphBuilder("residual", 13);
        var x = b.Input("x", DataType.Float, "rows", (long)K);
        var weight1 = b.Node("Constant", Array.Empty<string>(), "w1", OnnxAttribute.Tensor("value", TensorData.FromFloats("w1", new long[] { K, K }, w1)));
        var hidden = b.Node("Relu", new[] { b.Node("MatMul", new[] { x, weight1 }) });
        var residual = b.Node("Add", new[] { b.Node("MatMul", new[] { hidden, b.Initializer("w2", new long[] { K, K }, w2) }), x });
        var scaleConstant = b.Node("Constant", Array.Empty<string>(), "scale", OnnxAttribute.Tensor("value", TensorData.FromFloats("scale", new long[] { K }, scale)));
        var shape = b.Node("Constant", Array.Empty<string>(), "shape", OnnxAttribute.Ints("value_ints", -1, K));
        var reshaped = b.Node("Reshape", new[] { b.Node("Mul", new[] { residual, scaleConstant }), shape });
        var scaled = b.Node("Mul", new[] { reshaped, b.Initializer("gain", new long[] { K }, gain) });
        b.Node("MatMul", new[] { scaled, b.Initializer("w3", new long[] { K, N }, w3) }, "y");
        b.Output("y", DataType.Float, "rows", (long)N);
        using var folder = new TempFolder();
        OnnxModelFile.Save(b.Build(), folder.File("residual.onnx"), ExternalDataMode.Always);
        var samples = Enumerable.Range(0, 24).Select(i =>
        {
            var v = CorrelatedInputs(Rows, 4000 + 10 * i);
            for (int r = 0; r < Rows; r++) v[r * K + 5] = 0;
            return v;
        }).ToList();
        var data = CalibrationData.FromInputs(samples.Select(v => (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(v, new[] { Rows, K })) }));
        var settings = Options(WeightOnlyAlgorithm.Gptq);
        settings = settings with { WeightOnly = settings.WeightOnly with { GptqActOrder = actOrder } };
        OnnxQuantizer.QuantizeFile(folder.File("residual.onnx"), folder.File("q.onnx"), settings, ExternalDataMode.Never, null, data);
        var model = OnnxModelFile.Load(folder.File("q.onnx"));
        var layers = model.Graph.Node.Where(n => n.OpType == "MatMulNBits").ToList();
        Assert.Equal(3, layers.Count);
        byte[] Codes(MLNet.Quantization.Onnx.Protos.NodeProto node) => model.ReadTensorBytes(model.Graph.Initializer.Single(t => t.Name == node.Input[1])).ToArray();

        var first = GptqSolver.Quantize((float[])w1.Clone(), K, K, SymmetricMatrix.FromFull(Hessian(samples), K), settings.WeightOnly);
        Assert.Equal(first.Codes, Codes(layers[0]));
        var q1 = MatMulNBitsReference.Dequantize(model, layers[0]);
        for (int c = 0; c < K; c++) Assert.Equal(0f, q1[5 * K + c]);
        var hiddens = samples.Select(v => Relu(MatMulNBitsReference.MatMul(v, Rows, q1, K, K))).ToList();
        var second = GptqSolver.Quantize((float[])w2.Clone(), K, K, SymmetricMatrix.FromFull(Hessian(hiddens), K), settings.WeightOnly);
        Assert.True(CodeAgreement(second.Codes, Codes(layers[1])) >= 0.99, $"second layer agrees {CodeAgreement(second.Codes, Codes(layers[1])):P2}");
        var q2 = MatMulNBitsReference.Dequantize(model, layers[1]);
        var thirdInputs = samples.Zip(hiddens, (v, h) =>
        {
            var product = MatMulNBitsReference.MatMul(h, Rows, q2, K, K);
            return product.Select((p, i) => (p + v[i]) * scale[i % K] * gain[i % K]).ToArray();
        }).ToList();
        var third = GptqSolver.Quantize((float[])w3.Clone(), K, N, SymmetricMatrix.FromFull(Hessian(thirdInputs), K), settings.WeightOnly);
        Assert.True(CodeAgreement(third.Codes, Codes(layers[2])) >= 0.99, $"third layer agrees {CodeAgreement(third.Codes, Codes(layers[2])):P2}");
    }

    [Fact]
    public void Act_order_visits_high_energy_inputs_first_and_beats_rtn_on_held_out_inputs()
    {
        var model = Linear(Metrics.RandomFloats(K * N, 8, 0.1f));
        var rtn = OnnxQuantizer.Quantize(model, Options(WeightOnlyAlgorithm.Rtn));
        var settings = Options(WeightOnlyAlgorithm.Gptq);
        var actOrder = OnnxQuantizer.Quantize(model, settings with { WeightOnly = settings.WeightOnly with { GptqActOrder = true } }, Samples(64, 1000));
        Assert.Contains("GPTQ act-order", Assert.Single(actOrder.Report.Nodes).Detail);
        var heldOut = CorrelatedInputs(64, 6000);
        double rtnError = OutputError(model, rtn.Model, heldOut), actOrderError = OutputError(model, actOrder.Model, heldOut);
        Assert.True(actOrderError < 0.7 * rtnError, $"GPTQ act-order {actOrderError:G4} vs RTN {rtnError:G4}");
        var node = Assert.Single(actOrder.Model.Graph.Node);
        var reference = MatMulNBitsReference.MatMul(heldOut, 64, MatMulNBitsReference.Dequantize(actOrder.Model, node), K, N);
        Assert.True(Metrics.MaxAbsDiff(reference, OrtRunner.Run(actOrder.Model, new Dictionary<string, (Array, int[])> { ["x"] = (heldOut, new[] { 64, K }) })["y"]) <= 1e-3);
    }

    [Fact]
    public void Act_order_with_a_diagonal_hessian_permutes_rows_but_has_nothing_to_compensate()
    {
        const int k = 96, n = 20;
        var weight = Metrics.RandomFloats(k * n, 10, 0.3f);
        var diagonal = new double[k * k];
        for (int i = 0; i < k; i++) diagonal[i * k + i] = 1 + (i * 37 % k);
        var settings = new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Gptq, GptqActOrder = true };
        var gptq = GptqSolver.Quantize((float[])weight.Clone(), k, n, SymmetricMatrix.FromFull(diagonal, k), settings);
        var rtn = BlockQuantizer.Quantize(weight, k, n, false, settings with { Algorithm = WeightOnlyAlgorithm.Rtn, GptqActOrder = false });
        Assert.Equal(rtn.Codes, gptq.Codes);
        Assert.Equal(rtn.Scales, gptq.Scales);
        Assert.Equal(rtn.ZeroPoints, gptq.ZeroPoints);
    }

    [Fact]
    public void With_uncorrelated_inputs_of_equal_scale_gptq_has_nothing_to_compensate_and_equals_rtn()
    {
        const int k = 96, n = 20;
        var weight = Metrics.RandomFloats(k * n, 9, 0.3f);
        var identity = new double[k * k];
        for (int i = 0; i < k; i++) identity[i * k + i] = 5;
        var settings = new WeightOnlyOptions { Bits = 4, BlockSize = 32 };
        var gptq = GptqSolver.Quantize((float[])weight.Clone(), k, n, SymmetricMatrix.FromFull(identity, k), settings);
        var rtn = BlockQuantizer.Quantize(weight, k, n, false, settings);
        Assert.Equal(rtn.Codes, gptq.Codes);
        Assert.Equal(rtn.Scales, gptq.Scales);
        Assert.Equal(rtn.ZeroPoints, gptq.ZeroPoints);
    }

    [Fact]
    public void Gptq_without_calibration_data_is_refused_in_code_and_on_the_command_line()
    {
        var model = Linear(Metrics.RandomFloats(K * N, 7, 0.1f));
        Assert.Contains("GPTQ needs calibration data", Assert.Throws<ArgumentNullException>(() => OnnxQuantizer.Quantize(model, Options(WeightOnlyAlgorithm.Gptq), calibrationData: null)).Message);
        using var folder = new TempFolder();
        OnnxModelFile.Save(model, folder.File("m.onnx"));
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(new[] { "quantize", folder.File("m.onnx"), "-o", folder.File("q.onnx"), "--mode", "weight-only", "--algorithm", "gptq" }, new StringWriter(), error));
        Assert.Contains("--algorithm gptq needs --calibration-data", error.ToString());
        Assert.False(File.Exists(folder.File("q.onnx")));
    }

    [Fact]
    public void Gptq_calibration_samples_without_the_model_input_get_the_calibration_error()
    {
        var model = Linear(Metrics.RandomFloats(K * N, 7, 0.1f));
        var wrong = CalibrationData.FromInputs(new[] { (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("z", new DenseTensor<float>(new float[K], new[] { 1, K })) } });
        var error = Assert.Throws<InvalidOperationException>(() => OnnxQuantizer.Quantize(model, Options(WeightOnlyAlgorithm.Gptq), wrong));
        Assert.Contains("has no value for the model input 'x'", error.Message);
    }

    private sealed class Row
    {
        [VectorType(K)]
        [ColumnName("x")]
        public float[] X { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void The_ml_net_estimator_runs_gptq_on_the_rows_it_is_fitted_on()
    {
        using var folder = new TempFolder();
        var model = Linear(Metrics.RandomFloats(K * N, 7, 0.1f));
        OnnxModelFile.Save(model, folder.File("m.onnx"));
        var ml = new MLContext(seed: 1);
        var calibration = CorrelatedInputs(256, 3000);
        var rows = Enumerable.Range(0, 256).Select(r => new Row { X = calibration.AsSpan(r * K, K).ToArray() });
        var estimator = ml.Transforms.Quantize(folder.File("m.onnx"), Options(WeightOnlyAlgorithm.Gptq));
        estimator.Fit(ml.Data.LoadFromEnumerable(rows));
        var rtn = OnnxQuantizer.Quantize(model, Options(WeightOnlyAlgorithm.Rtn));
        var heldOut = CorrelatedInputs(64, 5000);
        Assert.True(OutputError(model, estimator.Result!.Model, heldOut) < 0.7 * OutputError(model, rtn.Model, heldOut));
    }
}
