using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Emitters;

/// <summary>
/// What the QDQ families share while a plan is written: one QuantizeLinear → DequantizeLinear pair per activation,
/// reused by every quantized reader, and the tensors every reader (float ones too) must take dequantized.
/// </summary>
internal sealed class QdqWriter
{
    private readonly Dictionary<string, string> _dequantized = new(StringComparer.Ordinal);
    private readonly HashSet<string> _everyReaderDequantizes = new(StringComparer.Ordinal);

    /// <summary>Creates a writer over <paramref name="context"/>.</summary>
    public QdqWriter(StaticEmitContext context) => Context = context;

    /// <summary>The rewrite's shared state.</summary>
    public StaticEmitContext Context { get; }

    /// <summary>The dequantized form of an activation, adding its QuantizeLinear → DequantizeLinear pair the first time.</summary>
    public string Dequantized(string tensor)
    {
        if (_dequantized.TryGetValue(tensor, out var name)) return name;
        var (scale, zeroPoint) = Context.ParameterInitializers(tensor);
        var stem = EmitContext.Sanitize(tensor);
        var quantized = Context.AddNode("QuantizeLinear", Context.QdqDomain, $"{stem}_QuantizeLinear", new[] { tensor, scale, zeroPoint }, new[] { Context.Graph.UniqueName($"{stem}_quantized") });
        name = Context.AddNode("DequantizeLinear", Context.QdqDomain, $"{stem}_DequantizeLinear", new[] { quantized, scale, zeroPoint }, new[] { Context.Graph.UniqueName($"{stem}_dequantized") });
        _dequantized[tensor] = name;
        return name;
    }

    /// <summary>Records that <paramref name="tensor"/> is itself the output of a DequantizeLinear.</summary>
    public void MarkDequantized(string tensor) => _dequantized[tensor] = tensor;

    /// <summary>
    /// Makes every reader of <paramref name="tensor"/>, float nodes included, read it dequantized (a Conv's output,
    /// so ONNX Runtime can fuse the Conv into QLinearConv).
    /// </summary>
    public void DequantizeForEveryReader(string tensor)
    {
        Dequantized(tensor);
        _everyReaderDequantizes.Add(tensor);
    }

    /// <summary>Points a float node's inputs at the dequantized forms where every reader must take those.</summary>
    public void RedirectFloatReader(NodeProto copy)
    {
        for (int i = 0; i < copy.Input.Count; i++)
            if (_everyReaderDequantizes.Contains(copy.Input[i])) copy.Input[i] = _dequantized[copy.Input[i]];
    }

    /// <summary>A constant stored 8-bit behind a DequantizeLinear (per channel along <paramref name="axis"/> when given).</summary>
    public string Dequantize(WeightInitializers weight, string original, int? axis)
    {
        var stem = EmitContext.Sanitize(original);
        var attributes = axis is int a ? new[] { OnnxAttribute.Int("axis", a).Proto } : Array.Empty<AttributeProto>();
        return Context.AddNode("DequantizeLinear", Context.QdqDomain, $"{stem}_DequantizeLinear", new[] { weight.Data, weight.Scale, weight.ZeroPoint }, new[] { Context.Graph.UniqueName($"{stem}_dequantized") }, attributes);
    }
}
