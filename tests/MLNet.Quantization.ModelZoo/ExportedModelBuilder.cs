using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.ModelZoo;

/// <summary>
/// Float models shaped like what other tools export, for the failures the project saw on real models: a
/// MobileNetV3 block (depthwise conv, hard-swish written as x·Clip(x+3, 0, 6)/6, HardSigmoid squeeze-excite), a
/// CRNN text recognizer (conv backbone → sequence → FC → softmax over characters), a detector head (upsampling and a
/// sigmoid map) and an opset-8 CNTK-style CNN (BatchNormalization with <c>spatial</c>, IR 3, initializers listed as
/// graph inputs). Weights are seeded He-initialized; BatchNormalization statistics are non-trivial.
/// </summary>
public sealed class ExportedModelBuilder
{
    private readonly GraphBuilder _b;
    private readonly Random _random;
    private readonly bool _initializersAsInputs;
    private int _layer;

    private ExportedModelBuilder(string name, long opset, int seed, bool initializersAsInputs = false)
    {
        _b = new GraphBuilder(name, opset);
        _random = new Random(seed);
        _initializersAsInputs = initializersAsInputs;
    }

    /// <summary>MobileNetV3-style classifier: input "image" [batch, 3, 32, 32], output "logits" [batch, 10]; opset 11.</summary>
    public static OnnxModel MobileNetV3Block(int seed = 11)
    {
        var m = new ExportedModelBuilder("mobilenetv3", 11, seed);
        var x = m._b.Input("image", DataType.Float, "batch", 3L, 32L, 32L);
        x = m.HardSwish(m.ConvBn(x, 3, 16, 3, stride: 2));
        foreach (var (expand, output, stride) in new[] { (32, 16, 1), (64, 24, 2), (72, 24, 1), (96, 40, 2) })
        {
            int input = m._lastChannels;
            var y = m.HardSwish(m.ConvBn(x, input, expand, 1));
            y = m.HardSwish(m.ConvBn(y, expand, expand, 3, stride, group: expand));
            y = m.SqueezeExcite(y, expand);
            y = m.ConvBn(y, expand, output, 1);
            x = input == output && stride == 1 ? m._b.Node("Add", new[] { x, y }) : y;
        }
        x = m.HardSwish(m.ConvBn(x, 40, 128, 1));
        x = m._b.Node("Flatten", new[] { m._b.Node("GlobalAveragePool", new[] { x }) });
        m._b.Node("Gemm", new[] { x, m.Weight(new long[] { 10, 128 }, 128), m.Weight(new long[] { 10 }, 1, 0.05f) }, "logits", OnnxAttribute.Int("transB", 1));
        m._b.Output("logits", DataType.Float, "batch", 10L);
        return m._b.Build(irVersion: 6);
    }

    /// <summary>CRNN-style recognizer: input "image" [batch, 1, 32, 96], output "probabilities" [batch, 12, 37] (softmax over characters); opset 11.</summary>
    public static OnnxModel Crnn(int seed = 12)
    {
        var m = new ExportedModelBuilder("crnn", 11, seed);
        var x = m._b.Input("image", DataType.Float, "batch", 1L, 32L, 96L);
        x = m._b.Node("Relu", new[] { m.ConvBn(x, 1, 32, 3) });
        x = m.Pool(x, 2, 2);
        x = m._b.Node("Relu", new[] { m.ConvBn(x, 32, 64, 3) });
        x = m.Pool(x, 2, 2);
        x = m._b.Node("Relu", new[] { m.ConvBn(x, 64, 96, 3) });
        x = m.Pool(x, 8, 2, 8, 2);
        // [batch, 96, 1, 12] -> sequence [batch, 12, 96]
        x = m._b.Node("Transpose", new[] { m._b.Node("Squeeze", new[] { x }, null, OnnxAttribute.Ints("axes", 2)) }, null, OnnxAttribute.Ints("perm", 0, 2, 1));
        x = m._b.Node("Relu", new[] { m._b.Node("Add", new[] { m._b.Node("MatMul", new[] { x, m.Weight(new long[] { 96, 128 }, 96) }), m.Weight(new long[] { 128 }, 1, 0.05f) }) });
        x = m._b.Node("Add", new[] { m._b.Node("MatMul", new[] { x, m.Weight(new long[] { 128, 37 }, 128, 0.6f) }), m.Weight(new long[] { 37 }, 1, 0.05f) });
        m._b.Node("Softmax", new[] { x }, "probabilities", OnnxAttribute.Int("axis", 2));
        m._b.Output("probabilities", DataType.Float, "batch", 12L, 37L);
        return m._b.Build(irVersion: 6);
    }

    /// <summary>Detector head: input "image" [batch, 3, 64, 64], output "score_map" [batch, 1, 32, 32] (sigmoid after nearest upsampling); opset 11.</summary>
    public static OnnxModel DetectorHead(int seed = 13)
    {
        var m = new ExportedModelBuilder("detector", 11, seed);
        var x = m._b.Input("image", DataType.Float, "batch", 3L, 64L, 64L);
        var c1 = m._b.Node("Relu", new[] { m.ConvBn(x, 3, 16, 3, stride: 2) });
        var c2 = m._b.Node("Relu", new[] { m.ConvBn(c1, 16, 32, 3, stride: 2) });
        var c3 = m._b.Node("Relu", new[] { m.ConvBn(c2, 32, 64, 3, stride: 2) });
        var scales = m._b.Initializer(TensorData.FromFloats("up_scales", new long[] { 4 }, new[] { 1f, 1f, 2f, 2f }));
        var roi = m._b.Initializer(TensorData.FromFloats("up_roi", new long[] { 0 }, Array.Empty<float>()));
        var up = m._b.Node("Resize", new[] { m.ConvBn(c3, 64, 32, 1), roi, scales }, null, OnnxAttribute.String("mode", "nearest"));
        var merged = m._b.Node("Relu", new[] { m._b.Node("Add", new[] { up, m.ConvBn(c2, 32, 32, 1) }) });
        var up2 = m._b.Node("Resize", new[] { merged, roi, scales }, null, OnnxAttribute.String("mode", "nearest"));
        var fused = m._b.Node("Relu", new[] { m._b.Node("Add", new[] { up2, m.ConvBn(c1, 16, 32, 1) }) });
        var head = m._b.Node("Relu", new[] { m.ConvBn(fused, 32, 32, 3) });
        m._b.Node("Sigmoid", new[] { m.Conv(head, 32, 1, 1) }, "score_map");
        m._b.Output("score_map", DataType.Float, "batch", 1L, 32L, 32L);
        return m._b.Build(irVersion: 6);
    }

    /// <summary>CNTK-style ResNet stem and two residual blocks at opset 8, IR 3: BatchNormalization with spatial = 1, every initializer also a graph input; input "features" [1, 3, 64, 64], output "pooled" [1, 64, 1, 1].</summary>
    public static OnnxModel CntkStyle(int seed = 14)
    {
        var m = new ExportedModelBuilder("cntk", 8, seed, initializersAsInputs: true);
        var x = m._b.Input("features", DataType.Float, 1L, 3L, 64L, 64L);
        x = m._b.Node("Relu", new[] { m.ConvBn(x, 3, 32, 7, stride: 2, spatialAttribute: true) });
        x = m._b.Node("MaxPool", new[] { x }, null, OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("strides", 2, 2), OnnxAttribute.Ints("pads", 1, 1, 1, 1));
        foreach (var channels in new[] { 32, 64 })
        {
            int input = m._lastChannels;
            var y = m._b.Node("Relu", new[] { m.ConvBn(x, input, channels, 3, spatialAttribute: true) });
            y = m.ConvBn(y, channels, channels, 3, spatialAttribute: true);
            var shortcut = input == channels ? x : m.ConvBn(x, input, channels, 1, spatialAttribute: true);
            x = m._b.Node("Relu", new[] { m._b.Node("Add", new[] { y, shortcut }) });
        }
        m._b.Node("GlobalAveragePool", new[] { x }, "pooled");
        m._b.Output("pooled", DataType.Float, 1L, 64L, 1L, 1L);
        var model = m._b.Build(irVersion: 3);
        foreach (var tensor in model.Graph.Initializer)
        {
            var info = GraphBuilder.ValueInfo(tensor.Name, (DataType)tensor.DataType, tensor.Dims.Select(d => (object)d).ToArray());
            model.Graph.Input.Add(info);
        }
        return model;
    }

    private int _lastChannels;

    private string ConvBn(string x, int inChannels, int outChannels, int kernel, int stride = 1, int group = 1, bool spatialAttribute = false)
    {
        var conv = Conv(x, inChannels, outChannels, kernel, stride, group, bias: false);
        var p = $"bn{_layer}";
        var gamma = Vector(p + ".gamma", outChannels, 1f, 0.2f);
        var beta = Vector(p + ".beta", outChannels, 0f, 0.1f);
        var mean = Vector(p + ".mean", outChannels, 0f, 0.2f);
        var variance = Vector(p + ".var", outChannels, 1.5f, 0.5f);
        var attributes = new List<OnnxAttribute> { OnnxAttribute.Float("epsilon", 1e-5f) };
        if (spatialAttribute) attributes.Add(OnnxAttribute.Int("spatial", 1));
        return _b.Node("BatchNormalization", new[] { conv, gamma, beta, mean, variance }, null, attributes.ToArray());
    }

    private string Conv(string x, int inChannels, int outChannels, int kernel, int stride = 1, int group = 1, bool bias = true)
    {
        _layer++;
        _lastChannels = outChannels;
        var weight = Weight(new long[] { outChannels, inChannels / group, kernel, kernel }, inChannels / group * kernel * kernel);
        var inputs = bias ? new[] { x, weight, Weight(new long[] { outChannels }, 1, 0.05f) } : new[] { x, weight };
        int pad = kernel / 2;
        return _b.Node("Conv", inputs, null, OnnxAttribute.Ints("kernel_shape", kernel, kernel), OnnxAttribute.Ints("strides", stride, stride),
            OnnxAttribute.Ints("pads", pad, pad, pad, pad), OnnxAttribute.Int("group", group));
    }

    private string HardSwish(string x)
    {
        var three = Scalar("three", 3f);
        var clipped = _b.Node("Clip", new[] { _b.Node("Add", new[] { x, three }), Scalar("zero", 0f), Scalar("six", 6f) });
        return _b.Node("Div", new[] { _b.Node("Mul", new[] { x, clipped }), Scalar("six_div", 6f) });
    }

    private string SqueezeExcite(string x, int channels)
    {
        var squeezed = _b.Node("GlobalAveragePool", new[] { x });
        var hidden = _b.Node("Relu", new[] { Conv(squeezed, channels, Math.Max(8, channels / 4), 1) });
        var gate = _b.Node("HardSigmoid", new[] { Conv(hidden, Math.Max(8, channels / 4), channels, 1) }, null, OnnxAttribute.Float("alpha", 1f / 6), OnnxAttribute.Float("beta", 0.5f));
        _lastChannels = channels;
        return _b.Node("Mul", new[] { x, gate });
    }

    private string Pool(string x, int kh, int kw, int sh = 2, int sw = 2) =>
        _b.Node("MaxPool", new[] { x }, null, OnnxAttribute.Ints("kernel_shape", kh, kw), OnnxAttribute.Ints("strides", sh, sw));

    private string Weight(long[] dims, int fanIn, float? fixedScale = null)
    {
        var values = new float[dims.Aggregate(1L, (a, d) => a * d)];
        float scale = fixedScale ?? MathF.Sqrt(2f / fanIn);
        for (int i = 0; i < values.Length; i++) values[i] = Gaussian() * scale;
        return _b.Initializer($"w{_weights++}", dims, values);
    }

    private int _weights;

    private string Vector(string name, int count, float center, float spread)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = center + spread * (2f * (float)_random.NextDouble() - 1f);
        return _b.Initializer(name, new long[] { count }, values);
    }

    private string Scalar(string stem, float value) => _b.Initializer($"{stem}_{_weights++}", Array.Empty<long>(), new[] { value });

    private float Gaussian() =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble()));
}
