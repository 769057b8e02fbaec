using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.ModelZoo;

/// <summary>Shape and export style of the small CNN.</summary>
/// <param name="Channels">Output channels of the three conv blocks.</param>
/// <param name="Classes">Outputs of the final linear layer.</param>
/// <param name="ImageSize">Height and width of the 3-channel input.</param>
/// <param name="Opset">Default-domain opset the model is exported at.</param>
/// <param name="WeightsInConstantNodes">Keep weights in Constant nodes, as older exporters do.</param>
/// <param name="Relu6">Use Clip(0, 6) instead of Relu (attributes below opset 11, inputs from 11).</param>
/// <param name="DecomposedNorm">Add a decomposed layer normalization (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add) before the classifier.</param>
public sealed record CnnShape(int[] Channels, int Classes = 10, int ImageSize = 32, long Opset = 17, bool WeightsInConstantNodes = false, bool Relu6 = false, bool DecomposedNorm = false)
{
    /// <summary>The acceptance CNN: 32/64/128 channels, 10 classes, 32×32 images, opset 17.</summary>
    public static CnnShape Default => new(new[] { 32, 64, 128 });
}

/// <summary>
/// Builds a small float CNN as exporters write it: (Conv 3×3 → BatchNormalization → Relu → MaxPool 2×2) × 3 →
/// GlobalAveragePool → Flatten → Gemm. Weights are random with He initialization (seeded); BatchNormalization has
/// non-trivial statistics so that folding it matters.
/// </summary>
public static class CnnModelBuilder
{
    /// <summary>Builds the model; input "image" [batch, 3, size, size], output "logits" [batch, classes].</summary>
    public static OnnxModel Build(CnnShape shape, int seed = 3)
    {
        var random = new Random(seed);
        var b = new GraphBuilder("cnn", shape.Opset);
        var x = b.Input("image", DataType.Float, "batch", 3L, (long)shape.ImageSize, (long)shape.ImageSize);
        int inChannels = 3;
        for (int block = 0; block < shape.Channels.Length; block++)
        {
            int outChannels = shape.Channels[block];
            var p = $"block{block}";
            var weight = Weight(b, shape, random, $"{p}.conv.weight", new long[] { outChannels, inChannels, 3, 3 }, MathF.Sqrt(2f / (inChannels * 9)));
            var bias = Weight(b, shape, random, $"{p}.conv.bias", new long[] { outChannels }, 0.05f);
            x = b.Node("Conv", new[] { x, weight, bias }, null, OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("pads", 1, 1, 1, 1));
            var gamma = Vector(b, shape, random, $"{p}.bn.gamma", outChannels, 1f, 0.2f);
            var beta = Vector(b, shape, random, $"{p}.bn.beta", outChannels, 0f, 0.1f);
            var mean = Vector(b, shape, random, $"{p}.bn.mean", outChannels, 0f, 0.2f);
            var variance = Vector(b, shape, random, $"{p}.bn.var", outChannels, 1.5f, 0.5f);
            x = b.Node("BatchNormalization", new[] { x, gamma, beta, mean, variance }, null, OnnxAttribute.Float("epsilon", 1e-5f));
            x = Activation(b, shape, x);
            x = b.Node("MaxPool", new[] { x }, null, OnnxAttribute.Ints("kernel_shape", 2, 2), OnnxAttribute.Ints("strides", 2, 2));
            inChannels = outChannels;
        }
        x = b.Node("Flatten", new[] { b.Node("GlobalAveragePool", new[] { x }) });
        if (shape.DecomposedNorm) x = DecomposedNorm(b, shape, random, x, inChannels);
        var fc = Weight(b, shape, random, "fc.weight", new long[] { shape.Classes, inChannels }, MathF.Sqrt(1f / inChannels));
        var fcBias = Weight(b, shape, random, "fc.bias", new long[] { shape.Classes }, 0.05f);
        b.Node("Gemm", new[] { x, fc, fcBias }, "logits", OnnxAttribute.Int("transB", 1));
        b.Output("logits", DataType.Float, "batch", (long)shape.Classes);
        return b.Build(irVersion: shape.Opset < 11 ? 4 : 8);
    }

    private static string Activation(GraphBuilder b, CnnShape shape, string x)
    {
        if (!shape.Relu6) return b.Node("Relu", new[] { x });
        if (shape.Opset < 11) return b.Node("Clip", new[] { x }, null, OnnxAttribute.Float("min", 0f), OnnxAttribute.Float("max", 6f));
        return b.Node("Clip", new[] { x, Scalar(b, shape, $"{x}_min", 0f), Scalar(b, shape, $"{x}_max", 6f) });
    }

    private static string DecomposedNorm(GraphBuilder b, CnnShape shape, Random random, string x, int width)
    {
        string ReduceMean(string input) => shape.Opset < 18
            ? b.Node("ReduceMean", new[] { input }, null, OnnxAttribute.Ints("axes", -1))
            : b.Node("ReduceMean", new[] { input, b.Initializer(TensorData.FromInt64($"{input}_axes", new long[] { 1 }, new long[] { -1 })) });
        var centered = b.Node("Sub", new[] { x, ReduceMean(x) });
        var variance = ReduceMean(b.Node("Pow", new[] { centered, Scalar(b, shape, "norm.two", 2f) }));
        var deviation = b.Node("Sqrt", new[] { b.Node("Add", new[] { variance, Scalar(b, shape, "norm.epsilon", 1e-5f) }) });
        var normalized = b.Node("Div", new[] { centered, deviation });
        var scaled = b.Node("Mul", new[] { normalized, Vector(b, shape, random, "norm.gamma", width, 1f, 0.1f) });
        return b.Node("Add", new[] { scaled, Vector(b, shape, random, "norm.beta", width, 0f, 0.1f) });
    }

    private static string Weight(GraphBuilder b, CnnShape shape, Random random, string name, long[] dims, float scale)
    {
        var values = new float[dims.Aggregate(1L, (a, d) => a * d)];
        for (int i = 0; i < values.Length; i++) values[i] = Gaussian(random) * scale;
        return Constant(b, shape, name, dims, values);
    }

    private static string Vector(GraphBuilder b, CnnShape shape, Random random, string name, int count, float center, float spread)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = center + spread * (2f * (float)random.NextDouble() - 1f);
        return Constant(b, shape, name, new long[] { count }, values);
    }

    private static string Scalar(GraphBuilder b, CnnShape shape, string name, float value) => Constant(b, shape, name, Array.Empty<long>(), new[] { value });

    private static string Constant(GraphBuilder b, CnnShape shape, string name, long[] dims, float[] values) =>
        shape.WeightsInConstantNodes ? b.Constant(name, TensorData.FromFloats(name, dims, values)) : b.Initializer(name, dims, values);

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
