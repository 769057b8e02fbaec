using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;
using WeightDecoding = MLNet.Quantization.Dequantization.WeightDecoding;

namespace MLNet.Quantization.Tests.Dequantization;

/// <summary>
/// Every format this package writes goes back to plain float operators. Where the quantized model computes in float
/// from its stored weights, the float model must give the same outputs (≤ 1e-5 of the output's range); where it also
/// rounds activations, the two may differ only by that rounding: cosine with the quantized model at least 0.999 (or the
/// quantized model's own cosine with float, when its rounding is coarser), and no further from the original float model
/// than the quantized model is. A wrong scale, zero point or transposition would break both.
/// </summary>
public class DequantizationTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private const int Width = 128;

    /// <summary>ids → Gather(table [300, 128]) → MatMul(128×128) + bias → Relu → MatMul(128×128) → y.</summary>
    private static OnnxModel DecoderLike()
    {
        var b = new GraphBuilder("decoder_like");
        var ids = b.Input("ids", DataType.Int64, 1L, 6L);
        var x = b.Node("Gather", new[] { b.Initializer("embed", new long[] { 300, Width }, Metrics.RandomFloats(300 * Width, 41, 0.5f)), ids });
        var h = b.Node("Add", new[] { b.Node("MatMul", new[] { x, b.Initializer("w1", new long[] { Width, Width }, Metrics.RandomFloats(Width * Width, 42, 0.1f)) }), b.Initializer("b1", new long[] { Width }, Metrics.RandomFloats(Width, 43, 0.1f)) });
        b.Node("MatMul", new[] { b.Node("Relu", new[] { h }), b.Initializer("w2", new long[] { Width, Width }, Metrics.RandomFloats(Width * Width, 44, 0.1f)) }, "y");
        b.Output("y", DataType.Float, 1L, 6L, (long)Width);
        return b.Build();
    }

    private static List<NamedOnnxValue> DecoderInputs() =>
        new() { NamedOnnxValue.CreateFromTensor("ids", new DenseTensor<long>(new long[] { 3, 299, 0, 17, 150, 42 }, new[] { 1, 6 })) };

    private static List<NamedOnnxValue> MlpInputs() =>
        new() { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(Metrics.RandomFloats(4 * 64, 77), new[] { 4, 64 })) };

    private static readonly BertShape SmallBert = new(Vocabulary: 500, Hidden: 64, Layers: 1, Heads: 2, FeedForward: 128, MaxPositions: 64, Sequence: 16);

    private sealed record Case(Func<OnnxModel> Build, Func<List<NamedOnnxValue>> Inputs, QuantizationOptions Options, Func<CalibrationData>? Calibration, bool FloatCompute);

    private static QuantizationOptions WeightOnly(WeightOnlyOptions settings) => new() { Mode = QuantizationMode.WeightOnly, WeightOnly = settings, MinimumWeightElements = 0 };

    private static QuantizationOptions Static(QuantizationFormat format) => new() { Mode = QuantizationMode.Static, Format = format, LatencyGuard = false };

    private static Case Exported(string name, QuantizationOptions options) =>
        new(() => ExportedModel.All.Single(m => m.Name == name).Build(), () => ExportedModel.All.Single(m => m.Name == name).Inputs(1, 7000), options,
            options.Mode == QuantizationMode.Static ? () => ExportedModel.All.Single(m => m.Name == name).Samples(40, 24) : null, false);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["dynamic, DynamicQuantizeMatMul"] = new(() => TestModels.Mlp(), MlpInputs, new QuantizationOptions { MinimumWeightElements = 0 }, null, false),
        ["dynamic, MatMulInteger chain"] = new(() => TestModels.Mlp(), MlpInputs, new QuantizationOptions { MinimumWeightElements = 0, MatMulForm = DynamicMatMulForm.OperatorChain }, null, false),
        ["dynamic, uint8 embedding table"] = new(DecoderLike, DecoderInputs, new QuantizationOptions { MinimumWeightElements = 0, OpTypesToQuantize = new[] { "Gather" } }, null, true),
        ["dynamic, ConvInteger"] = Exported("mobilenetv3", new QuantizationOptions { QuantizeConv = true, MinimumWeightElements = 0 }),
        ["dynamic, DynamicQuantizeLSTM"] = Exported("crnn", new QuantizationOptions { MinimumWeightElements = 0 }),
        ["static QDQ, mobilenetv3"] = Exported("mobilenetv3", Static(QuantizationFormat.Qdq)),
        ["static QOperator, mobilenetv3"] = Exported("mobilenetv3", Static(QuantizationFormat.QOperator)),
        ["static QOperator, detector"] = Exported("detector", Static(QuantizationFormat.QOperator)),
        ["static QOperator, cntk-opset8"] = Exported("cntk-opset8", Static(QuantizationFormat.QOperator)),
        ["static QDQ, crnn"] = Exported("crnn", Static(QuantizationFormat.Qdq)),
        ["static QOperator, BERT attention"] = new(() => BertModelBuilder.Build(SmallBert), () => BertInputs.Create(2, SmallBert, 7),
            Static(QuantizationFormat.QOperator) with { QuantizeActivationMatMuls = true },
            () => CalibrationData.FromInputs(Enumerable.Range(0, 16).Select(i => (IReadOnlyList<NamedOnnxValue>)BertInputs.Create(1, SmallBert, 300 + i))), false),
        ["weight-only INT4, float compute"] = new(DecoderLike, DecoderInputs, WeightOnly(new WeightOnlyOptions { AccuracyLevel = 0 }), null, true),
        ["weight-only INT4, int8 compute"] = new(DecoderLike, DecoderInputs, WeightOnly(new WeightOnlyOptions { AccuracyLevel = 4 }), null, false),
        ["weight-only INT8 symmetric, block 64"] = new(DecoderLike, DecoderInputs, WeightOnly(new WeightOnlyOptions { Bits = 8, BlockSize = 64, Symmetric = true, AccuracyLevel = 0 }), null, true),
        ["weight-only NF4"] = new(DecoderLike, DecoderInputs, WeightOnly(new WeightOnlyOptions { Format = WeightOnlyFormat.Nf4, BlockSize = 64 }), null, true),
        ["weight-only FP4"] = new(DecoderLike, DecoderInputs, WeightOnly(new WeightOnlyOptions { Format = WeightOnlyFormat.Fp4, BlockSize = 64 }), null, true),
        ["float16 weights"] = new(DecoderLike, DecoderInputs, new QuantizationOptions { Mode = QuantizationMode.Float16, MinimumWeightElements = 0, Float16 = new Float16Options { HalfCompute = false } }, null, true),
        ["bfloat16 weights"] = new(DecoderLike, DecoderInputs, new QuantizationOptions { Mode = QuantizationMode.Float16, MinimumWeightElements = 0, Float16 = new Float16Options { Type = HalfPrecisionType.BFloat16, HalfCompute = false } }, null, true),
        ["float16 with half compute, BERT"] = new(() => BertModelBuilder.Build(SmallBert), () => BertInputs.Create(2, SmallBert, 7), new QuantizationOptions { Mode = QuantizationMode.Float16 }, null, false),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    /// <summary>Runs the model's first output; <paramref name="optimize"/> false runs the graph as written (ONNX Runtime fuses a weight's Q→DQ→MatMul into an integer kernel otherwise).</summary>
    private static float[] Run(OnnxModel model, List<NamedOnnxValue> inputs, bool optimize = true)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(OnnxModelFile.ToBytes(model), options);
        using var results = session.Run(inputs);
        return results[0].AsTensor<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Dequantized_models_are_plain_float_and_agree_with_the_quantized_model(string name)
    {
        var c = Cases[name];
        var original = c.Build();
        var quantized = OnnxQuantizer.Quantize(original, c.Options, c.Calibration?.Invoke()).Model;
        Assert.DoesNotMatch("^none", ModelSummary.Of(quantized).Format);

        var (dequantized, report) = OnnxDequantizer.Dequantize(quantized);

        Assert.StartsWith("none", ModelSummary.Of(dequantized).Format);
        Assert.DoesNotContain(dequantized.Graph.Node, n => n.Domain == "com.microsoft" || n.OpType is "QuantizeLinear" or "DequantizeLinear" or "DynamicQuantizeLinear"
            || (n.OpType == "Cast" && n.Attribute.Single(a => a.Name == "to").I is (long)DataType.Float16 or (long)DataType.Bfloat16));
        Assert.DoesNotContain(dequantized.Graph.Initializer, t => t.DataType is not ((int)DataType.Float or (int)DataType.Int64 or (int)DataType.Int32));
        Assert.True(report.RewrittenNodes.Values.Sum() > 0);
        Assert.True(report.WeightBytesAfter > report.WeightBytesBefore, report.ToString());

        var inputs = c.Inputs();
        var expected = Run(quantized, inputs);
        var actual = Run(dequantized, inputs);
        double range = expected.Max(v => Math.Abs(v));
        double relative = Metrics.MaxAbsDiff(expected, actual) / range;
        double cosine = Metrics.Cosine(expected, actual);
        log.WriteLine($"{name}: max difference {relative:E2} of the output range, cosine {cosine:F6}");
        if (c.FloatCompute)
        {
            Assert.True(relative <= 1e-5, $"{name}: max difference {relative:E2} of the output range\n{report}");
            return;
        }
        var reference = Run(original, inputs);
        double quantizedVsFloat = Metrics.Cosine(reference, expected), dequantizedVsFloat = Metrics.Cosine(reference, actual);
        string figures = $"{name}: cosine with the quantized model {cosine:F6} (max difference {relative:E2} of its range); with float: quantized {quantizedVsFloat:F6}, dequantized {dequantizedVsFloat:F6}\n{report}";
        log.WriteLine($"  with float: quantized {quantizedVsFloat:F6}, dequantized {dequantizedVsFloat:F6}");
        Assert.True(cosine >= Math.Min(0.999, quantizedVsFloat), figures);
        Assert.True(dequantizedVsFloat >= quantizedVsFloat - 1e-3, figures);
    }

    [Fact]
    public void The_cli_dequantizes_a_file_and_refuses_a_float_model_without_writing()
    {
        using var folder = new TempFolder();
        var input = folder.File("q.onnx");
        OnnxQuantizer.Quantize(DecoderLike(), WeightOnly(new WeightOnlyOptions { AccuracyLevel = 0 })).Save(input);
        var before = File.ReadAllBytes(input);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(CliApp.Success, CliApp.Run(new[] { "dequantize", input, "-o", folder.File("float.onnx") }, output, error));
        Assert.Contains("MatMulNBits", output.ToString());
        Assert.Equal(before, File.ReadAllBytes(input));
        var inspect = new StringWriter();
        CliApp.Run(new[] { "inspect", folder.File("float.onnx") }, inspect, error);
        Assert.Contains("Quantization: none", inspect.ToString());

        error = new StringWriter();
        Assert.Equal(CliApp.Failure, CliApp.Run(new[] { "dequantize", folder.File("float.onnx"), "-o", folder.File("again.onnx") }, new StringWriter(), error));
        Assert.Contains("nothing to dequantize", error.ToString());
        Assert.False(File.Exists(folder.File("again.onnx")));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path, ".*"));
    }

    [Fact]
    public void Float_weights_behind_a_quantize_dequantize_pair_come_back_as_the_rounded_weights()
    {
        var b = new GraphBuilder("qdq_weight", 13);
        var x = b.Input("x", DataType.Float, 4L, 64L);
        var w = b.Initializer("w", new long[] { 64, 32 }, Metrics.RandomFloats(64 * 32, 8, 0.3f));
        var scale = b.Initializer("w_scale", new long[] { 32 }, Enumerable.Range(0, 32).Select(i => 0.01f + i * 0.0005f).ToArray());
        var zero = b.Initializer("w_zero", new long[] { 32 }, new long[32]);
        var model = b.Build();
        model.Graph.Initializer[^1] = TensorData.FromInt8("w_zero", new long[] { 32 }, new sbyte[32]);
        var q = new Onnx.Protos.NodeProto { OpType = "QuantizeLinear", Name = "w_q" };
        q.Input.AddRange(new[] { w, scale, zero });
        q.Output.Add("w_quantized");
        q.Attribute.Add(OnnxAttribute.Int("axis", 1).Proto);
        var dq = new Onnx.Protos.NodeProto { OpType = "DequantizeLinear", Name = "w_dq" };
        dq.Input.AddRange(new[] { "w_quantized", scale, zero });
        dq.Output.Add("w_dequantized");
        dq.Attribute.Add(OnnxAttribute.Int("axis", 1).Proto);
        var matmul = new Onnx.Protos.NodeProto { OpType = "MatMul", Name = "product" };
        matmul.Input.AddRange(new[] { x, "w_dequantized" });
        matmul.Output.Add("y");
        model.Graph.Node.AddRange(new[] { q, dq, matmul });
        model.Graph.Output.Add(GraphBuilder.ValueInfo("y", DataType.Float, 4L, 32L));

        var (dequantized, _) = OnnxDequantizer.Dequantize(model);
        var inputs = MlpInputs();
        var expected = Run(model, inputs, optimize: false);
        var actual = Run(dequantized, inputs);
        Assert.DoesNotContain(dequantized.Graph.Node, n => n.OpType is "QuantizeLinear" or "DequantizeLinear");
        var decoded = dequantized.ReadFloats(dequantized.Graph.Initializer.Single(t => t.Name == "w_dequantized"));
        var original = model.ReadFloats(model.Graph.Initializer[0]);
        var reference = original.Select((v, i) => Math.Clamp(MathF.Round(v / (0.01f + (i % 32) * 0.0005f), MidpointRounding.ToEven), -128, 127) * (0.01f + (i % 32) * 0.0005f)).ToArray();
        Assert.True(Metrics.MaxAbsDiff(reference, decoded) <= 1e-6, $"weights differ by {Metrics.MaxAbsDiff(reference, decoded):E2}");
        Assert.True(Metrics.MaxAbsDiff(expected, actual) <= 1e-5 * expected.Max(v => Math.Abs(v)), $"max difference {Metrics.MaxAbsDiff(expected, actual):E2}");
    }

    [Fact]
    public void Decoded_integers_follow_the_operator_layouts()
    {
        var graph = new GraphBuilder("layouts");
        var model = graph.Build();
        var codes = TensorData.FromBytes("codes", new long[] { 2, 1, 2 }, DataType.Uint8, new byte[] { 0x21, 0x43, 0x0F, 0xF0 });
        var scales = TensorData.FromFloats("scales", new long[] { 2, 1 }, new[] { 0.5f, 2f });
        var weight = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(WeightDecoding.MatMulNBits(model, codes, scales, null, k: 4, n: 2, bits: 4, blockSize: 4)).ToArray();
        Assert.Equal(new[] { (1 - 8) * 0.5f, (15 - 8) * 2f, (2 - 8) * 0.5f, (0 - 8) * 2f, (3 - 8) * 0.5f, (0 - 8) * 2f, (4 - 8) * 0.5f, (15 - 8) * 2f }, weight);

        var data = TensorData.FromBytes("w", new long[] { 2, 3 }, DataType.Int8, new byte[] { 1, 2, 3, unchecked((byte)-1), 0, 4 });
        var perColumn = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(WeightDecoding.Linear(model, data, TensorData.FromFloats("s", new long[] { 3 }, new[] { 1f, 10f, 100f }), null, 1)).ToArray();
        Assert.Equal(new[] { 1f, 20f, 300f, -1f, 0f, 400f }, perColumn);
    }
}
