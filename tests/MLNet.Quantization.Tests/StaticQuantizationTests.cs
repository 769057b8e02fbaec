using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

public class StaticQuantizationTests
{
    private static readonly CnnShape SmallCnn = new(new[] { 8, 16, 32 }, ImageSize: 16);
    private static readonly BertShape SmallBert = new(Vocabulary: 500, Hidden: 64, Layers: 2, Heads: 2, FeedForward: 128, MaxPositions: 64, Sequence: 16);

    private static Dictionary<string, (Array, int[])> ImageInputs(int batch, int size, int seed) =>
        new() { ["image"] = (StaticSamples.Images(batch, size, seed), new[] { batch, 3, size, size }) };

    private static QuantizationOptions Static(QuantizationFormat format = QuantizationFormat.Qdq, CalibrationMethod method = CalibrationMethod.MinMax) =>
        new() { Mode = QuantizationMode.Static, Format = format, CalibrationMethod = method, MinimumWeightElements = 0, LatencyGuard = false };

    private static QuantizationResult QuantizeCnn(OnnxModel model, QuantizationOptions options, int size = 16) =>
        OnnxQuantizer.Quantize(model, options, StaticSamples.ImageCalibration(64, size, 1000));

    private static (float[] Reference, float[] Quantized) RunBoth(OnnxModel model, QuantizationResult result, int size = 16)
    {
        var inputs = ImageInputs(64, size, 1);
        return (OrtRunner.Run(model, inputs)["logits"], OrtRunner.Run(result.Model, inputs)["logits"]);
    }

    [Theory]
    [InlineData(QuantizationFormat.Qdq)]
    [InlineData(QuantizationFormat.QOperator)]
    public void Cnn_matches_float_model_in_onnx_runtime(QuantizationFormat format)
    {
        var model = CnnModelBuilder.Build(SmallCnn);
        var result = QuantizeCnn(model, Static(format));
        var (reference, quantized) = RunBoth(model, result);

        Assert.True(Metrics.Cosine(reference, quantized) >= 0.995, $"cosine {Metrics.Cosine(reference, quantized):F5}\n{result.Report}");
        Assert.True(StaticSamples.Agreement(reference, quantized, 10) >= 0.95, $"agreement {StaticSamples.Agreement(reference, quantized, 10):P1}");
        Assert.DoesNotContain(result.Model.Graph.Node, n => n.OpType is "BatchNormalization" or "Relu");
        Assert.Equal(12, result.Report.QuantizedNodeCount);
        Assert.All(result.Report.Tensors, t => Assert.True(t.Scale > 0 && t.Min <= 0 && t.Max > 0, t.ToString()));
        if (format == QuantizationFormat.QOperator)
        {
            Assert.Equal(3, result.Model.Graph.Node.Count(n => n.OpType == "QLinearConv"));
            Assert.Contains(result.Model.Graph.Node, n => n.OpType == "QGemm");
        }
        else
        {
            Assert.DoesNotContain(result.Model.Graph.Node, n => n.OpType.StartsWith("QLinear", StringComparison.Ordinal));
            Assert.Equal(3, result.Model.Graph.Node.Count(n => n.OpType == "Conv"));
        }
    }

    [Fact]
    public void Qdq_and_qoperator_agree_within_one_quantization_step()
    {
        var model = CnnModelBuilder.Build(SmallCnn);
        var qdq = QuantizeCnn(model, Static(QuantizationFormat.Qdq));
        var qoperator = QuantizeCnn(model, Static(QuantizationFormat.QOperator));
        var inputs = ImageInputs(32, 16, 2);
        var a = OrtRunner.Run(qdq.Model, inputs)["logits"];
        var b = OrtRunner.Run(qoperator.Model, inputs)["logits"];

        // The logits are the classifier's product of its 8-bit input: one step of that input moves a logit by at most
        // step × (largest row sum of |weights|).
        var classifierInput = qdq.Report.Tensors.Single(t => t.Tensor.StartsWith("flatten", StringComparison.OrdinalIgnoreCase));
        var weights = model.ReadFloats(model.Graph.Initializer.Single(t => t.Name == "fc.weight"));
        int inputs32 = SmallCnn.Channels[^1];
        double rowSum = Enumerable.Range(0, SmallCnn.Classes).Max(r => weights.Skip(r * inputs32).Take(inputs32).Sum(MathF.Abs));
        Assert.True(Metrics.MaxAbsDiff(a, b) <= classifierInput.Scale * rowSum, $"max diff {Metrics.MaxAbsDiff(a, b):G4} > step {classifierInput.Scale * rowSum:G4}");
    }

    [Theory]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void Other_calibration_methods_keep_the_cnn_accurate(CalibrationMethod method)
    {
        var model = CnnModelBuilder.Build(SmallCnn);
        var result = QuantizeCnn(model, Static(method: method));
        var (reference, quantized) = RunBoth(model, result);
        Assert.True(Metrics.Cosine(reference, quantized) >= 0.99, $"{method}: cosine {Metrics.Cosine(reference, quantized):F5}");
    }

    [Fact]
    public void Int8_activations_work()
    {
        var model = CnnModelBuilder.Build(SmallCnn);
        var result = QuantizeCnn(model, Static() with { ActivationType = QuantizedType.Int8 });
        var (reference, quantized) = RunBoth(model, result);
        Assert.True(Metrics.Cosine(reference, quantized) >= 0.995, $"cosine {Metrics.Cosine(reference, quantized):F5}");
        Assert.Contains(result.Model.Graph.Initializer, t => t.Name.EndsWith("zero_point", StringComparison.Ordinal) && t.DataType == (int)Onnx.Protos.TensorProto.Types.DataType.Int8 && t.Dims.Count == 0);
    }

    [Theory]
    [InlineData(9, QuantizationFormat.Qdq)]
    [InlineData(9, QuantizationFormat.QOperator)]
    [InlineData(11, QuantizationFormat.Qdq)]
    public void Legacy_export_with_constant_node_weights_quantizes_statically(long opset, QuantizationFormat format)
    {
        var shape = SmallCnn with { Opset = opset, WeightsInConstantNodes = true, Relu6 = true, DecomposedNorm = true };
        var model = CnnModelBuilder.Build(shape);
        var result = QuantizeCnn(model, Static(format));
        var (reference, quantized) = RunBoth(model, result);

        Assert.True(Metrics.Cosine(reference, quantized) >= 0.99, $"opset {opset}: cosine {Metrics.Cosine(reference, quantized):F5}\n{result.Report}");
        Assert.Equal(Math.Max(opset, 10), result.Model.Proto.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        if (format == QuantizationFormat.Qdq)
            Assert.All(result.Model.Graph.Node.Where(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"), n => Assert.Equal("com.microsoft", n.Domain));
        Assert.Contains(result.Report.Nodes, n => !n.Quantized && n.OpType == "Mul" && n.Detail.Contains("normalization", StringComparison.Ordinal));
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "ReduceMean");
    }

    [Fact]
    public void Opset_9_slice_is_converted_not_relabelled()
    {
        var b = new GraphBuilder("slice", 9);
        var x = b.Input("x", Onnx.Protos.TensorProto.Types.DataType.Float, 4L, 32L);
        var w = b.Initializer("w", new long[] { 32, 16 }, Metrics.RandomFloats(32 * 16, 3, 0.3f));
        var product = b.Node("MatMul", new[] { x, w });
        b.Node("Slice", new[] { product }, "y", OnnxAttribute.Ints("starts", 2), OnnxAttribute.Ints("ends", 10), OnnxAttribute.Ints("axes", 1));
        b.Output("y", Onnx.Protos.TensorProto.Types.DataType.Float, 4L, 8L);
        var model = b.Build(irVersion: 4);
        var calibration = CalibrationData.FromInputs(Enumerable.Range(0, 8).Select(i => (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(Metrics.RandomFloats(128, 50 + i), new[] { 4, 32 })) }));
        var result = OnnxQuantizer.Quantize(model, Static(), calibration);
        var inputs = new Dictionary<string, (Array, int[])> { ["x"] = (Metrics.RandomFloats(128, 9), new[] { 4, 32 }) };

        var slice = result.Model.Graph.Node.Single(n => n.OpType == "Slice");
        Assert.Empty(slice.Attribute);
        Assert.Equal(4, slice.Input.Count);
        var reference = OrtRunner.Run(model, inputs)["y"];
        Assert.True(Metrics.Cosine(reference, OrtRunner.Run(result.Model, inputs)["y"]) >= 0.999);
    }

    [Theory]
    [InlineData(QuantizationFormat.Qdq)]
    [InlineData(QuantizationFormat.QOperator)]
    public void Bert_shaped_encoder_keeps_its_outputs_and_normalization_stays_float(QuantizationFormat format)
    {
        var model = BertModelBuilder.Build(SmallBert);
        var calibration = CalibrationData.FromInputs(Enumerable.Range(0, 24).Select(i => (IReadOnlyList<NamedOnnxValue>)BertInputs.Create(1, SmallBert, 200 + i)));
        var result = OnnxQuantizer.Quantize(model, Static(format), calibration);
        var evaluation = BertInputs.Create(4, SmallBert, 7);
        var inputs = evaluation.ToDictionary(v => v.Name, v => ((Array)((DenseTensor<long>)v.AsTensor<long>()).Buffer.ToArray(), new[] { 4, SmallBert.Sequence }));
        var reference = OrtRunner.Run(model, inputs)["last_hidden_state"];
        var quantized = OrtRunner.Run(result.Model, inputs)["last_hidden_state"];

        Assert.True(Metrics.Cosine(reference, quantized) >= 0.995, $"cosine {Metrics.Cosine(reference, quantized):F5}\n{result.Report}");
        Assert.Equal(model.Graph.Node.Count(n => n.OpType == "LayerNormalization"), result.Model.Graph.Node.Count(n => n.OpType == "LayerNormalization"));
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "Softmax");
        Assert.True(result.Report.CompressionRatio > 3.5, result.Report.ToString());
    }

    [Fact]
    public void Attention_products_can_be_quantized_with_signed_keys_and_values()
    {
        var model = BertModelBuilder.Build(SmallBert);
        var calibration = CalibrationData.FromInputs(Enumerable.Range(0, 24).Select(i => (IReadOnlyList<NamedOnnxValue>)BertInputs.Create(1, SmallBert, 300 + i)));
        var options = Static(QuantizationFormat.QOperator) with { QuantizeActivationMatMuls = true };
        var result = OnnxQuantizer.Quantize(model, options, calibration);
        var evaluation = BertInputs.Create(4, SmallBert, 9);
        var inputs = evaluation.ToDictionary(v => v.Name, v => ((Array)((DenseTensor<long>)v.AsTensor<long>()).Buffer.ToArray(), new[] { 4, SmallBert.Sequence }));
        var reference = OrtRunner.Run(model, inputs)["last_hidden_state"];
        var quantized = OrtRunner.Run(result.Model, inputs)["last_hidden_state"];

        Assert.True(Metrics.Cosine(reference, quantized) >= 0.99, $"cosine {Metrics.Cosine(reference, quantized):F5}");
        int attentionProducts = model.Graph.Node.Count(n => n.OpType == "MatMul" && !model.Graph.Initializer.Any(t => t.Name == n.Input[1]));
        Assert.Equal(attentionProducts, result.Model.Graph.Node.Count(n => n.OpType is "QLinearMatMul" or "MatMulIntegerToFloat" && !result.Model.Graph.Initializer.Any(t => t.Name == n.Input[n.OpType == "QLinearMatMul" ? 3 : 1])));
        var signedZeroPoints = result.Model.Graph.Initializer.Count(t => t.Name.EndsWith("zero_point", StringComparison.Ordinal) && t.Dims.Count == 0 && t.DataType == (int)Onnx.Protos.TensorProto.Types.DataType.Int8);
        Assert.Equal(attentionProducts, signedZeroPoints);
    }

    [Fact]
    public void The_input_model_is_not_modified()
    {
        var model = CnnModelBuilder.Build(SmallCnn);
        var before = model.Proto.ToByteArray();
        QuantizeCnn(model, Static());
        Assert.Equal(before, model.Proto.ToByteArray());
    }

    [Fact]
    public void Static_mode_without_calibration_data_is_refused()
    {
        var error = Assert.Throws<ArgumentNullException>(() => OnnxQuantizer.Quantize(CnnModelBuilder.Build(SmallCnn), Static(), calibrationData: null));
        Assert.Contains("calibration data", error.Message);
    }

    public static TheoryData<string, string> BadCalibrationData => new()
    {
        { "empty", "holds no samples" },
        { "nan", "NaN" },
        { "missing input", "has no value for the model input 'image'" },
        { "wrong shape", "rejected by the model" },
    };

    [Theory]
    [MemberData(nameof(BadCalibrationData))]
    public void Bad_calibration_data_fails_clearly_and_writes_nothing(string kind, string expected)
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(CnnModelBuilder.Build(SmallCnn), folder.File("cnn.onnx"));
        var image = StaticSamples.Images(1, 16, 3);
        NamedOnnxValue Value(string name, float[] values, int[] dims) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, dims));
        IReadOnlyList<NamedOnnxValue>[] samples = kind switch
        {
            "empty" => Array.Empty<IReadOnlyList<NamedOnnxValue>>(),
            "nan" => new IReadOnlyList<NamedOnnxValue>[] { new[] { Value("image", image.Select((v, i) => i == 5 ? float.NaN : v).ToArray(), new[] { 1, 3, 16, 16 }) } },
            "missing input" => new IReadOnlyList<NamedOnnxValue>[] { new[] { Value("pixels", image, new[] { 1, 3, 16, 16 }) } },
            _ => new IReadOnlyList<NamedOnnxValue>[] { new[] { Value("image", image.Take(3 * 8 * 8).ToArray(), new[] { 1, 3, 8, 8, 1 }) } },
        };
        var error = Assert.Throws<InvalidOperationException>(() =>
            OnnxQuantizer.QuantizeFile(folder.File("cnn.onnx"), folder.File("out.onnx"), Static(), calibrationData: CalibrationData.FromInputs(samples)));
        Assert.Contains(expected, error.Message);
        Assert.False(File.Exists(folder.File("out.onnx")));
        Assert.Single(Directory.GetFiles(folder.Path));
    }
}
