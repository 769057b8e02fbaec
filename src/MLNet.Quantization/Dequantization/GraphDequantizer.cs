using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Preparation;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Dequantization;

/// <summary>
/// Rewrites a quantized graph back to plain float operators. Every 8-bit activation keeps its name and now holds the
/// float it stood for: a QuantizeLinear (or DynamicQuantizeLinear) becomes a rename of its input, a DequantizeLinear of
/// an activation a rename of its input, and operators that only move values (MaxPool, Reshape, Concat…) simply run on
/// float. Each integer operator becomes its float counterpart reading float weights decoded from its integers; a
/// DequantizeLinear of a constant becomes the decoded constant. Half-precision weights go back to float32 and the
/// Casts between float32 and half precision go.
/// </summary>
internal sealed class GraphDequantizer
{
    /// <summary>Operators that only a quantized model has; any left after the rewrite is an error.</summary>
    private static readonly HashSet<string> QuantizedOperators = new(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "MatMulIntegerToFloat",
        "DynamicQuantizeMatMul", "DynamicQuantizeLSTM", "QGemm", "QAttention", "MatMulNBits", "MatMulBnb4", "GatherBlockQuantized",
    };

    private readonly GraphEditor _graph;
    private readonly Dictionary<string, string> _renamed = new(StringComparer.Ordinal);
    private readonly HashSet<NodeProto> _absorbed = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, string> _decoded = new(StringComparer.Ordinal);
    private readonly List<NodeProto> _nodes = new();
    private readonly SortedDictionary<string, int> _rewritten = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _types;
    private readonly bool _halfToFloat;

    private GraphDequantizer(GraphEditor graph)
    {
        _graph = graph;
        _types = ElementTypeInference.Infer(graph.Graph).Types;
        bool HalfType(ValueInfoProto v) => v.Type?.TensorType?.ElemType is (int)DataType.Float16 or (int)DataType.Bfloat16;
        _halfToFloat = !graph.Graph.Input.Any(HalfType) && !graph.Graph.Output.Any(HalfType);
    }

    /// <summary>Rewrites <paramref name="graph"/> in place; returns how many nodes of each quantized operator were replaced.</summary>
    public static IReadOnlyDictionary<string, int> Run(GraphEditor graph, CancellationToken cancellationToken)
    {
        var dequantizer = new GraphDequantizer(graph);
        foreach (var node in graph.Graph.Node.ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (dequantizer._absorbed.Contains(node)) continue;
            dequantizer.RenameInputs(node);
            if (!dequantizer.Rewrite(node)) dequantizer._nodes.Add(node);
            else dequantizer._rewritten[node.OpType] = dequantizer._rewritten.GetValueOrDefault(node.OpType) + 1;
            GarbageBound.Check();
        }
        dequantizer.Finish();
        return dequantizer._rewritten;
    }

    private void Finish()
    {
        foreach (var output in _graph.Graph.Output)
        {
            var source = Resolve(output.Name);
            if (source != output.Name) Add("Identity", "", new[] { source }, new[] { output.Name });
        }
        _graph.Graph.Node.Clear();
        _graph.Graph.Node.AddRange(_nodes);
        _graph.Graph.ValueInfo.Clear();
        _graph.Reindex();
        _graph.RemoveUnusedValues();
        if (_halfToFloat) ConvertHalfConstants();
        var all = AllNodes(_graph.Graph).ToList();
        var left = all.FirstOrDefault(n => QuantizedOperators.Contains(n.OpType) || n.OpType.StartsWith("QLinear", StringComparison.Ordinal));
        if (left is not null)
        {
            bool inSubgraph = !_graph.Graph.Node.Contains(left);
            throw new NotSupportedException($"Node '{left.Name}' ({left.OpType}) cannot be dequantized: {(inSubgraph ? "it is inside a subgraph (If/Loop/Scan body), which dequantize does not rewrite" : "it is not in a form this tool writes")}. Nothing was written.");
        }
        if (!all.Any(n => n.Domain == "com.microsoft"))
        {
            var imports = _graph.Model.Proto.OpsetImport;
            foreach (var import in imports.Where(i => i.Domain == "com.microsoft").ToList()) imports.Remove(import);
        }
    }

    /// <summary>The graph's nodes and those of every subgraph inside them.</summary>
    private static IEnumerable<NodeProto> AllNodes(GraphProto graph)
    {
        foreach (var node in graph.Node)
        {
            yield return node;
            foreach (var attribute in node.Attribute)
            {
                if (attribute.G is not null) foreach (var inner in AllNodes(attribute.G)) yield return inner;
                foreach (var subgraph in attribute.Graphs) foreach (var inner in AllNodes(subgraph)) yield return inner;
            }
        }
    }

    private bool Rewrite(NodeProto node)
    {
        bool standard = node.Domain is "" or "ai.onnx";
        bool microsoft = node.Domain == "com.microsoft";
        if (!standard && !microsoft) return false;
        switch (node.OpType)
        {
            case "QuantizeLinear":
                if (_graph.TryGetConstant(node.Input[0], out var constant)) QuantizeConstant(node, constant);
                else Saturate(node.Input[0], node.Input[1], Optional(node, 2), node.Output[0]);
                return true;
            case "DynamicQuantizeLinear":
                Rename(node.Output[0], node.Input[0]);
                node.Output[0] = _graph.UniqueName(node.Output[0] + "_unused");
                _nodes.Add(node);
                return true;
            case "DequantizeLinear":
                return DequantizeLinear(node);
            case "MatMulInteger" or "ConvInteger":
                return IntegerProduct(node);
            case "MatMulIntegerToFloat":
                MatMul(node, Float(node.Input[0], node.Input[2], Optional(node, 4), -1), Float(node.Input[1], node.Input[3], Optional(node, 5), -1), Optional(node, 6));
                return true;
            case "DynamicQuantizeMatMul":
                MatMul(node, node.Input[0], Float(node.Input[1], node.Input[2], Optional(node, 3), -1), Optional(node, 4));
                return true;
            case "QLinearMatMul":
                MatMul(node, Float(node.Input[0], node.Input[1], node.Input[2], -1), Float(node.Input[3], node.Input[4], node.Input[5], -1), null, saturate: true);
                return true;
            case "QLinearConv":
                Add("Conv", "", WithBias(new[] { Float(node.Input[0], node.Input[1], node.Input[2], 0), Float(node.Input[3], node.Input[4], node.Input[5], 0) }, node),
                    new[] { Saturated(node, 6, 7) }, node.Attribute);
                return true;
            case "QGemm":
                return QGemm(node);
            case "QLinearAdd" or "QLinearMul":
                Add(node.OpType["QLinear".Length..], "", new[] { Float(node.Input[0], node.Input[1], node.Input[2], -1), Float(node.Input[3], node.Input[4], node.Input[5], -1) }, new[] { Saturated(node, 6, 7) });
                return true;
            case "QLinearConcat":
            {
                var inputs = new List<string>();
                for (int i = 2; i + 2 < node.Input.Count; i += 3) inputs.Add(Float(node.Input[i], node.Input[i + 1], node.Input[i + 2], -1));
                Add("Concat", "", inputs, new[] { Saturated(node, 0, 1) }, node.Attribute.Where(a => a.Name == "axis"));
                return true;
            }
            case "QLinearSoftmax":
                return Softmax(node);
            case "QLinearAveragePool" or "QLinearGlobalAveragePool" or "QLinearSigmoid" or "QLinearLeakyRelu":
                if (Int(node, "channels_last", 0) != 0) throw Unsupported(node, "it pools channels-last (NHWC) data, which the float pools do not read");
                Add(node.OpType["QLinear".Length..], "", new[] { Float(node.Input[0], node.Input[1], node.Input[2], -1) }, new[] { Saturated(node, 3, 4) }, node.Attribute.Where(a => a.Name != "channels_last"));
                return true;
            case "DynamicQuantizeLSTM":
                return Lstm(node);
            case "MatMulNBits":
                return MatMulNBits(node);
            case "MatMulBnb4":
            {
                int k = Int(node, "K"), n = Int(node, "N");
                var weight = WeightDecoding.Bnb4(_graph.Model, Constant(node, 1), Constant(node, 2), k, n, Int(node, "block_size"), Int(node, "quant_type") == 1);
                MatMul(node, node.Input[0], NewInitializer(node.Input[1] + "_float", new long[] { k, n }, weight), null);
                return true;
            }
            case "GatherBlockQuantized":
                return GatherBlockQuantized(node);
            case "Cast":
                return Cast(node);
            case "Constant":
                return HalfConstantNode(node);
            default:
                return false;
        }
    }

    private bool DequantizeLinear(NodeProto node)
    {
        if (Int(node, "block_size", 0) != 0) throw Unsupported(node, "blocked DequantizeLinear (block_size) is not written by this tool");
        long axis = Int(node, "axis", 1);
        if (_graph.TryGetConstant(node.Input[0], out var data))
        {
            var values = WeightDecoding.Linear(_graph.Model, data, Constant(node, 1), OptionalConstant(node, 2), axis);
            _graph.AddInitializer(TensorData.FromBytes(node.Output[0], data.Dims, DataType.Float, values));
            return true;
        }
        if (_graph.Producer(node.Input[0]) is { OpType: "Gather" } gather && _graph.TryGetConstant(gather.Input[0], out var table)
            && TensorData.ElementCount(Constant(node, 1)) == 1 && _graph.Consumers(gather.Output[0]).Count == 1)
        {
            gather.Input[0] = NewInitializer(gather.Input[0] + "_float", table.Dims.ToArray(), WeightDecoding.Linear(_graph.Model, table, Constant(node, 1), OptionalConstant(node, 2), axis));
            Rename(node.Output[0], node.Input[0]);
            return true;
        }
        Rename(node.Output[0], node.Input[0]);
        return true;
    }

    /// <summary>
    /// QuantizeLinear of a constant weight (QDQ exports that keep float weights): its output becomes the integer
    /// tensor the quantized model computes, round-half-to-even(x / scale) + zero point clamped to the type's range, so
    /// the DequantizeLinear after it decodes exactly the weights the quantized model uses.
    /// </summary>
    private void QuantizeConstant(NodeProto node, TensorProto weight)
    {
        var values = _graph.Model.ReadFloats(weight);
        var scales = _graph.Model.ReadFloats(Constant(node, 1));
        var zeroTensor = OptionalConstant(node, 2);
        var zeros = zeroTensor is null ? new long[scales.Length] : _graph.Model.ReadInt64s(zeroTensor);
        int type = zeroTensor?.DataType ?? (int)DataType.Uint8;
        var (low, high) = IntegerRange(type) ?? throw Unsupported(node, $"it quantizes a constant to {ElementType.Name(type)}");
        var dims = weight.Dims.ToArray();
        long axis = Int(node, "axis", 1);
        int a = (int)(axis < 0 ? axis + dims.Length : axis);
        long inner = 1;
        if (scales.Length > 1) for (int d = a + 1; d < dims.Length; d++) inner *= dims[d];
        var codes = new byte[values.Length];
        for (long i = 0; i < values.Length; i++)
        {
            int channel = scales.Length == 1 ? 0 : (int)(i / inner % dims[a]);
            long q = (long)Math.Round(values[i] / scales[channel], MidpointRounding.ToEven) + zeros[channel];
            codes[i] = unchecked((byte)Math.Clamp(q, low, high));
        }
        _graph.AddInitializer(TensorData.FromBytes(node.Output[0], dims, (DataType)type, codes));
    }

    /// <summary>
    /// The dynamic chain DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast → Mul(input scale · weight scale)
    /// becomes one MatMul/Conv on the float input and the decoded weight.
    /// </summary>
    private bool IntegerProduct(NodeProto node)
    {
        var cast = SingleConsumer(node.Output[0], "Cast") ?? throw Unsupported(node, "its int32 output is not read by a single Cast");
        var mul = SingleConsumer(cast.Output[0], "Mul") ?? throw Unsupported(node, "its Cast is not followed by a single scale Mul");
        var scale = mul.Input[0] == cast.Output[0] ? mul.Input[1] : mul.Input[0];
        var scaleProduct = _graph.Producer(scale);
        string? weightScale = scaleProduct is { OpType: "Mul" } ? scaleProduct.Input.FirstOrDefault(i => _graph.TryGetConstant(i, out _)) : null;
        if (weightScale is null) throw Unsupported(node, "its output scale is not input scale · constant weight scale");
        bool conv = node.OpType == "ConvInteger";
        var weight = Float(node.Input[1], weightScale, Optional(node, 3), conv ? 0 : -1);
        Add(conv ? "Conv" : "MatMul", "", new[] { node.Input[0], weight }, new[] { mul.Output[0] }, conv ? node.Attribute : Enumerable.Empty<AttributeProto>());
        _absorbed.Add(cast);
        _absorbed.Add(mul);
        return true;
    }

    private bool QGemm(NodeProto node)
    {
        bool transB = Int(node, "transB", 0) != 0;
        var a = Float(node.Input[0], node.Input[1], node.Input[2], -1);
        var b = Float(node.Input[3], node.Input[4], node.Input[5], transB ? 0 : 1);
        var inputs = new List<string> { a, b };
        var c = Optional(node, 6);
        if (c is not null)
        {
            var bias = Constant(node, 6);
            float alpha = node.Attribute.FirstOrDefault(x => x.Name == "alpha")?.F ?? 1f;
            float aScale = _graph.Model.ReadFloats(Constant(node, 1))[0] * alpha;
            var bScales = _graph.Model.ReadFloats(Constant(node, 4));
            var values = Array.ConvertAll(_graph.Model.ReadInt64s(bias), v => (float)v);
            long last = bias.Dims.Count == 0 ? 1 : bias.Dims[^1];
            for (int i = 0; i < values.Length; i++) values[i] *= aScale * bScales[bScales.Length == 1 ? 0 : (int)(i % last)];
            inputs.Add(NewInitializer(c + "_float", bias.Dims.ToArray(), values));
        }
        Add("Gemm", "", inputs, new[] { Optional(node, 7) is null ? node.Output[0] : Saturated(node, 7, 8) }, node.Attribute.Where(x => x.Name is "alpha" or "transA" or "transB"));
        return true;
    }

    private bool Softmax(NodeProto node)
    {
        long opset = Int(node, "opset", _graph.OpsetVersion("") ?? 13);
        long graphOpset = _graph.OpsetVersion("") ?? 13;
        if ((opset >= 13) != (graphOpset >= 13) && Int(node, "axis", opset >= 13 ? -1 : 1) is not -1)
            throw Unsupported(node, $"its softmax follows opset {opset} rules on a non-last axis, but the model imports opset {graphOpset}");
        long axis = Int(node, "axis", opset >= 13 ? -1 : 1);
        Add("Softmax", "", new[] { Float(node.Input[0], node.Input[1], node.Input[2], -1) }, new[] { Saturated(node, 3, 4) }, new[] { OnnxAttribute.Int("axis", axis).Proto });
        return true;
    }

    /// <summary>DynamicQuantizeLSTM's weights [directions, inputs, 4·hidden] with per-direction or per-gate-column scales back to LSTM's [directions, 4·hidden, inputs].</summary>
    private bool Lstm(NodeProto node)
    {
        string Gate(int dataIndex, int scaleIndex, int zeroIndex)
        {
            var data = Constant(node, dataIndex);
            var values = _graph.Model.ReadInt64s(data);
            var scales = _graph.Model.ReadFloats(Constant(node, scaleIndex));
            var zeros = _graph.Model.ReadInt64s(Constant(node, zeroIndex));
            long directions = data.Dims[0], rows = data.Dims[1], columns = data.Dims[2];
            bool perColumn = scales.Length == directions * columns;
            var result = new float[values.Length];
            for (long d = 0; d < directions; d++)
                for (long r = 0; r < rows; r++)
                    for (long c = 0; c < columns; c++)
                    {
                        long parameter = perColumn ? d * columns + c : d;
                        result[(d * columns + c) * rows + r] = (values[(d * rows + r) * columns + c] - zeros[parameter]) * scales[parameter];
                    }
            return NewInitializer(node.Input[dataIndex] + "_float", new[] { directions, columns, rows }, result);
        }
        var inputs = new List<string> { node.Input[0], Gate(1, 8, 9), Gate(2, 10, 11) };
        for (int i = 3; i < 8; i++) inputs.Add(Optional(node, i) ?? "");
        while (inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
        Add("LSTM", "", inputs, node.Output, node.Attribute);
        return true;
    }

    private bool MatMulNBits(NodeProto node)
    {
        if (Optional(node, 4) is not null) throw Unsupported(node, "it has a g_idx input (act-order without static groups), which this tool does not write");
        int k = Int(node, "K"), n = Int(node, "N");
        var weight = WeightDecoding.MatMulNBits(_graph.Model, Constant(node, 1), Constant(node, 2), OptionalConstant(node, 3), k, n, Int(node, "bits"), Int(node, "block_size"));
        MatMul(node, node.Input[0], NewInitializer(node.Input[1] + "_float", new long[] { k, n }, weight), Optional(node, 5));
        return true;
    }

    private bool GatherBlockQuantized(NodeProto node)
    {
        if (Int(node, "quantize_axis", 1) is not (1 or -1)) throw Unsupported(node, "only tables quantized along their last axis are supported");
        var table = WeightDecoding.BlockTable(_graph.Model, Constant(node, 0), Constant(node, 2), OptionalConstant(node, 3), (int)Int(node, "bits", 4), (int)Int(node, "block_size", 128), out long rows, out long width);
        var floatTable = NewInitializer(node.Input[0] + "_float", new[] { rows, width }, table);
        Add("Gather", "", new[] { floatTable, node.Input[1] }, new[] { node.Output[0] }, new[] { OnnxAttribute.Int("axis", Int(node, "gather_axis", 0)).Proto });
        return true;
    }

    private bool Cast(NodeProto node)
    {
        if (!_halfToFloat) return false;
        long to = Int(node, "to", 0);
        bool toHalf = to is (long)DataType.Float16 or (long)DataType.Bfloat16;
        bool fromHalf = _types.GetValueOrDefault(node.Input[0]) is (int)DataType.Float16 or (int)DataType.Bfloat16;
        if (toHalf && _types.GetValueOrDefault(node.Input[0]) == (int)DataType.Float)
        {
            Rename(node.Output[0], node.Input[0]);
            return true;
        }
        if (to == (long)DataType.Float && fromHalf)
        {
            Rename(node.Output[0], node.Input[0]);
            return true;
        }
        return false;
    }

    private bool HalfConstantNode(NodeProto node)
    {
        if (!_halfToFloat) return false;
        var value = node.Attribute.FirstOrDefault(a => a.Name == "value" && a.T is not null)?.T;
        if (value is null || value.DataType is not ((int)DataType.Float16 or (int)DataType.Bfloat16)) return false;
        var copy = node.Clone();
        copy.Attribute.First(a => a.Name == "value").T = TensorData.FromBytes(value.Name, value.Dims, DataType.Float, WeightDecoding.Half(_graph.Model, value));
        _nodes.Add(copy);
        return true;
    }

    private void ConvertHalfConstants()
    {
        var initializers = _graph.Graph.Initializer;
        int converted = 0;
        for (int i = 0; i < initializers.Count; i++)
        {
            var tensor = initializers[i];
            if (tensor.DataType is not ((int)DataType.Float16 or (int)DataType.Bfloat16)) continue;
            var replacement = TensorData.FromBytes(tensor.Name, tensor.Dims, DataType.Float, WeightDecoding.Half(_graph.Model, tensor));
            initializers[i] = _graph.Model.Spill?.Store(replacement) ?? replacement;
            converted++;
            GarbageBound.Check();
        }
        if (converted > 0) _rewritten["half-precision initializers"] = converted;
        _graph.Reindex();
    }

    /// <summary>A float value for a quantized operand: the decoded constant, or (for an activation) the renamed value itself.</summary>
    private string Float(string value, string scale, string? zeroPoint, long axis)
    {
        if (!_graph.TryGetConstant(value, out var data)) return value;
        var key = $"{value}|{scale}|{zeroPoint}|{axis}";
        if (_decoded.TryGetValue(key, out var existing)) return existing;
        if (!_graph.TryGetConstant(scale, out var scaleTensor)) throw new NotSupportedException($"The scale '{scale}' of constant '{value}' is computed at run time; it cannot be dequantized. Nothing was written.");
        TensorProto? zeroTensor = null;
        if (zeroPoint is not null && !_graph.TryGetConstant(zeroPoint, out zeroTensor)) throw new NotSupportedException($"The zero point '{zeroPoint}' of constant '{value}' is computed at run time; it cannot be dequantized. Nothing was written.");
        long rank = data.Dims.Count;
        var values = WeightDecoding.Linear(_graph.Model, data, scaleTensor, zeroTensor, axis < 0 ? rank + axis : axis);
        var name = NewInitializer(value + "_float", data.Dims.ToArray(), values);
        _decoded[key] = name;
        return name;
    }

    /// <summary>QLinearConv's float inputs plus its int32 bias (input 8) decoded with scale input scale · weight scale per channel.</summary>
    private List<string> WithBias(string[] inputs, NodeProto node)
    {
        var list = inputs.ToList();
        if (Optional(node, 8) is not { } bias) return list;
        var tensor = Constant(node, 8);
        float inputScale = _graph.Model.ReadFloats(Constant(node, 1))[0];
        var weightScales = _graph.Model.ReadFloats(Constant(node, 4));
        var values = Array.ConvertAll(_graph.Model.ReadInt64s(tensor), v => (float)v);
        for (int i = 0; i < values.Length; i++) values[i] *= inputScale * weightScales[weightScales.Length == 1 ? 0 : i];
        list.Add(NewInitializer(bias + "_float", tensor.Dims.ToArray(), values));
        return list;
    }

    /// <summary>MatMul (+ bias Add) writing the node's output; <paramref name="saturate"/>: QLinearMatMul's output range (inputs 6, 7) clips it.</summary>
    private void MatMul(NodeProto node, string a, string b, string? bias, bool saturate = false)
    {
        if (bias is null)
        {
            Add("MatMul", "", new[] { a, b }, new[] { saturate ? Saturated(node, 6, 7) : node.Output[0] });
            return;
        }
        var product = _graph.UniqueName(node.Output[0] + "_product");
        Add("MatMul", "", new[] { a, b }, new[] { product });
        Add("Add", "", new[] { product, bias }, new[] { node.Output[0] });
    }

    /// <summary>
    /// A new name for the float result of a QLinear node, which a Clip to the range its quantized output could hold
    /// (inputs <paramref name="scaleIndex"/>, <paramref name="zeroPointIndex"/>) turns into the node's output: the
    /// saturation is how a quantized graph applies the Relu or Clip the quantizer folded away.
    /// </summary>
    private string Saturated(NodeProto node, int scaleIndex, int zeroPointIndex)
    {
        var result = _graph.UniqueName(node.Output[0] + "_float");
        Saturate(result, node.Input[scaleIndex], Optional(node, zeroPointIndex), node.Output[0]);
        return result;
    }

    /// <summary>output = Clip(value) to [(qmin − zero point)·scale, (qmax − zero point)·scale] of a per-tensor 8-bit quantization.</summary>
    private void Saturate(string value, string scale, string? zeroPoint, string output)
    {
        if (!_graph.TryGetConstant(scale, out var scaleTensor) || TensorData.ElementCount(scaleTensor) != 1)
            throw new NotSupportedException($"The quantization of '{output}' has a scale that is not one constant; it cannot be dequantized. Nothing was written.");
        float s = _graph.Model.ReadFloats(scaleTensor)[0];
        long zero = 0;
        int type = (int)DataType.Uint8;
        if (zeroPoint is not null)
        {
            if (!_graph.TryGetConstant(zeroPoint, out var zeroTensor) || TensorData.ElementCount(zeroTensor) != 1)
                throw new NotSupportedException($"The quantization of '{output}' has a zero point that is not one constant; it cannot be dequantized. Nothing was written.");
            zero = _graph.Model.ReadInt64s(zeroTensor)[0];
            type = zeroTensor.DataType;
        }
        var (low, high) = IntegerRange(type)
            ?? throw new NotSupportedException($"The quantization of '{output}' is to {ElementType.Name(type)}, which cannot be dequantized. Nothing was written.");
        float min = (low - zero) * s, max = (high - zero) * s;
        if ((_graph.OpsetVersion("") ?? 11) >= 11)
            Add("Clip", "", new[] { value, NewInitializer(output + "_min", Array.Empty<long>(), new[] { min }), NewInitializer(output + "_max", Array.Empty<long>(), new[] { max }) }, new[] { output });
        else
            Add("Clip", "", new[] { value }, new[] { output }, new[] { OnnxAttribute.Float("min", min).Proto, OnnxAttribute.Float("max", max).Proto });
    }

    /// <summary>The values a QuantizeLinear of element type <paramref name="type"/> saturates to; null for types it cannot produce here.</summary>
    private static (long Low, long High)? IntegerRange(int type) => type switch
    {
        (int)DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        (int)DataType.Uint8 => (byte.MinValue, byte.MaxValue),
        (int)DataType.Int16 => (short.MinValue, short.MaxValue),
        (int)DataType.Uint16 => (ushort.MinValue, ushort.MaxValue),
        _ => null,
    };

    private void Add(string opType, string domain, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<AttributeProto>? attributes = null)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = _graph.UniqueName($"{opType}_dequantized") };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        if (attributes is not null) node.Attribute.AddRange(attributes.Select(a => a.Clone()));
        _nodes.Add(node);
    }

    private string NewInitializer(string stem, long[] dims, float[] values) => NewInitializer(stem, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>Adds a float initializer from its little-endian bytes, which it takes without a copy.</summary>
    private string NewInitializer(string stem, long[] dims, byte[] floatBytes)
    {
        var name = _graph.UniqueName(stem);
        _graph.AddInitializer(TensorData.FromBytes(name, dims, DataType.Float, floatBytes));
        return name;
    }

    private NodeProto? SingleConsumer(string value, string opType) =>
        _graph.Consumers(value) is { Count: 1 } consumers && consumers[0].OpType == opType && !_graph.Graph.Output.Any(o => o.Name == value) ? consumers[0] : null;

    private void Rename(string from, string to) => _renamed[from] = Resolve(to);

    private string Resolve(string name)
    {
        while (_renamed.TryGetValue(name, out var next)) name = next;
        return name;
    }

    private void RenameInputs(NodeProto node)
    {
        for (int i = 0; i < node.Input.Count; i++)
            if (node.Input[i].Length > 0) node.Input[i] = Resolve(node.Input[i]);
        foreach (var attribute in node.Attribute)
        {
            if (attribute.G is not null) foreach (var inner in attribute.G.Node) RenameInputs(inner);
            foreach (var graph in attribute.Graphs) foreach (var inner in graph.Node) RenameInputs(inner);
        }
    }

    private static string? Optional(NodeProto node, int index) => index < node.Input.Count && node.Input[index].Length > 0 ? node.Input[index] : null;

    private TensorProto Constant(NodeProto node, int index) =>
        _graph.TryGetConstant(node.Input[index], out var tensor) ? tensor : throw Unsupported(node, $"its input {index} ('{node.Input[index]}') is not a constant");

    private TensorProto? OptionalConstant(NodeProto node, int index) => Optional(node, index) is null ? null : Constant(node, index);

    private static int Int(NodeProto node, string name) =>
        (int)(node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? throw new OnnxFormatException($"Node '{node.Name}' ({node.OpType}) has no '{name}' attribute."));

    private static long Int(NodeProto node, string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    private static NotSupportedException Unsupported(NodeProto node, string why) =>
        new($"Node '{node.Name}' ({node.OpType}) cannot be dequantized: {why}. Nothing was written.");
}
