using MLNet.Quantization.Onnx;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests;

/// <summary>Small float models built in code for the tests.</summary>
internal static class TestModels
{
    /// <summary>x[batch,64] → MatMul(64x32) + bias → Relu → MatMul(32x16) + bias → y[batch,16].</summary>
    public static OnnxModel Mlp(long opset = 17)
    {
        var b = new GraphBuilder("mlp", opset);
        var x = b.Input("x", DataType.Float, "batch", 64L);
        var w1 = b.Initializer("w1", new long[] { 64, 32 }, Metrics.RandomFloats(64 * 32, 1, 0.3f));
        var b1 = b.Initializer("b1", new long[] { 32 }, Metrics.RandomFloats(32, 2, 0.1f));
        var w2 = b.Initializer("w2", new long[] { 32, 16 }, Metrics.RandomFloats(32 * 16, 3, 0.3f));
        var b2 = b.Initializer("b2", new long[] { 16 }, Metrics.RandomFloats(16, 4, 0.1f));
        var h = b.Node("Add", new[] { b.Node("MatMul", new[] { x, w1 }), b1 });
        var r = b.Node("Relu", new[] { h });
        b.Node("Add", new[] { b.Node("MatMul", new[] { r, w2 }), b2 }, "y");
        b.Output("y", DataType.Float, "batch", 16L);
        return b.Build();
    }

    /// <summary>x[4,48] → Gemm(B transposed [24,48], C [24]) → y[4,24].</summary>
    public static OnnxModel Gemm(bool transB)
    {
        var b = new GraphBuilder("gemm");
        var x = b.Input("x", DataType.Float, 4L, 48L);
        var weight = Metrics.RandomFloats(48 * 24, 5, 0.5f);
        var w = b.Initializer("w", transB ? new long[] { 24, 48 } : new long[] { 48, 24 }, weight);
        var c = b.Initializer("c", new long[] { 24 }, Metrics.RandomFloats(24, 6, 0.2f));
        b.Node("Gemm", new[] { x, w, c }, "y", OnnxAttribute.Int("transB", transB ? 1 : 0));
        b.Output("y", DataType.Float, 4L, 24L);
        return b.Build();
    }

    /// <summary>ids[2,5] (int64) → Gather(table [100,32]) → y[2,5,32].</summary>
    public static OnnxModel Embedding()
    {
        var b = new GraphBuilder("embedding");
        var ids = b.Input("ids", DataType.Int64, 2L, 5L);
        var table = b.Initializer("table", new long[] { 100, 32 }, Metrics.RandomFloats(100 * 32, 7));
        b.Node("Gather", new[] { table, ids }, "y");
        b.Output("y", DataType.Float, 2L, 5L, 32L);
        return b.Build();
    }

    /// <summary>x[seq 6, batch 2, input 16] → LSTM(hidden 24, bidirectional or forward) → y, y_h.</summary>
    public static OnnxModel Lstm(bool bidirectional)
    {
        int directions = bidirectional ? 2 : 1, hidden = 24, input = 16;
        var b = new GraphBuilder("lstm");
        var x = b.Input("x", DataType.Float, 6L, 2L, (long)input);
        var w = b.Initializer("W", new long[] { directions, 4 * hidden, input }, Metrics.RandomFloats(directions * 4 * hidden * input, 8, 0.4f));
        var r = b.Initializer("R", new long[] { directions, 4 * hidden, hidden }, Metrics.RandomFloats(directions * 4 * hidden * hidden, 9, 0.4f));
        var bias = b.Initializer("B", new long[] { directions, 8 * hidden }, Metrics.RandomFloats(directions * 8 * hidden, 10, 0.1f));
        b.NodeInDomain("", "LSTM", new[] { x, w, r, bias }, new[] { "y", "y_h" },
            OnnxAttribute.Int("hidden_size", hidden),
            OnnxAttribute.String("direction", bidirectional ? "bidirectional" : "forward"));
        b.Output("y", DataType.Float, 6L, (long)directions, 2L, (long)hidden);
        b.Output("y_h", DataType.Float, (long)directions, 2L, (long)hidden);
        return b.Build();
    }

    /// <summary>x[2,3,16,16] → Conv(8 filters 3x3, bias) → Relu → y.</summary>
    public static OnnxModel Conv()
    {
        var b = new GraphBuilder("conv");
        var x = b.Input("x", DataType.Float, 2L, 3L, 16L, 16L);
        var w = b.Initializer("w", new long[] { 8, 3, 3, 3 }, Metrics.RandomFloats(8 * 27, 11, 0.5f));
        var bias = b.Initializer("bias", new long[] { 8 }, Metrics.RandomFloats(8, 12, 0.1f));
        var conv = b.Node("Conv", new[] { x, w, bias }, null, OnnxAttribute.Ints("pads", 1, 1, 1, 1));
        b.Node("Relu", new[] { conv }, "y");
        b.Output("y", DataType.Float, 2L, 8L, 16L, 16L);
        return b.Build();
    }

    /// <summary>
    /// An opset-9, IR-3 model as old exporters wrote it: weights in Constant nodes, Clip with min/max attributes,
    /// x[3,64] → MatMul(Constant 64x48) + Constant bias → Clip(-0.5, 0.5) → Gemm(Constant 48x10, Constant C) → y.
    /// </summary>
    public static OnnxModel Opset9WithConstants()
    {
        var b = new GraphBuilder("legacy", 9);
        var x = b.Input("x", DataType.Float, 3L, 64L);
        var w1 = b.Constant("w1", TensorData.FromFloats("w1", new long[] { 64, 48 }, Metrics.RandomFloats(64 * 48, 13, 0.3f)));
        var b1 = b.Constant("b1", TensorData.FromFloats("b1", new long[] { 48 }, Metrics.RandomFloats(48, 14, 0.1f)));
        var w2 = b.Constant("w2", TensorData.FromFloats("w2", new long[] { 48, 10 }, Metrics.RandomFloats(48 * 10, 15, 0.3f)));
        var c2 = b.Constant("c2", TensorData.FromFloats("c2", new long[] { 10 }, Metrics.RandomFloats(10, 17, 0.1f)));
        var h = b.Node("Add", new[] { b.Node("MatMul", new[] { x, w1 }), b1 });
        var clipped = b.Node("Clip", new[] { h }, null, OnnxAttribute.Float("min", -0.5f), OnnxAttribute.Float("max", 0.5f));
        b.Node("Gemm", new[] { clipped, w2, c2 }, "y");
        b.Output("y", DataType.Float, 3L, 10L);
        return b.Build(irVersion: 3);
    }
}
