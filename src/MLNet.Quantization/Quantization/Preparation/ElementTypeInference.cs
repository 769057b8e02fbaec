using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Preparation;

/// <summary>
/// The element type of every value in a main graph, from ONNX's type rules: graph inputs, initializers and Constant
/// nodes give types, and each operator's rule carries them to its outputs (most keep their first input's type; Cast,
/// Shape, comparisons, arg-max, quantize/dequantize and the others below have their own rule; If/Loop/Scan take their
/// bodies' declared outputs). Planning needs this to know which values are float32, without an ONNX Runtime session.
/// An operator without a rule here leaves its outputs untyped, and <see cref="Infer"/> says so.
/// </summary>
internal static class ElementTypeInference
{
    /// <summary>Operators whose every output has the element type of their first input.</summary>
    private static readonly HashSet<string> SameAsFirstInput = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "BatchNormalization",
        "BitShift", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "Ceil", "Celu", "CenterCropPad", "Clip",
        "Col2Im", "Compress", "Concat", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum", "DepthToSpace", "Det", "DFT",
        "Div", "Einsum", "Elu", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather", "GatherElements", "GatherND",
        "Gelu", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "GridSample", "GRU", "HardSigmoid",
        "HardSwish", "Hardmax", "Identity", "InstanceNormalization", "LeakyRelu", "Log", "LogSoftmax", "LpNormalization",
        "LpPool", "LRN", "LSTM", "MatMul", "Max", "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "Min",
        "Mish", "Mod", "Mul", "Neg", "Pad", "Pow", "PRelu", "Range", "Reciprocal", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
        "ReduceSumSquare", "Relu", "Reshape", "Resize", "ReverseSequence", "RNN", "RoiAlign", "Round", "Scatter",
        "ScatterElements", "ScatterND", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Slice", "Softmax",
        "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "STFT", "Sub", "Sum", "Tan", "Tanh",
        "ThresholdedRelu", "Tile", "Transpose", "Trilu", "Unsqueeze", "Upsample",
    };

    /// <summary>ONNX Runtime contrib operators (com.microsoft) whose outputs have their first input's type.</summary>
    private static readonly HashSet<string> MicrosoftSameAsFirstInput = new(StringComparer.Ordinal)
    {
        "FusedMatMul", "Gelu", "FastGelu", "BiasGelu", "SkipLayerNormalization", "LayerNormalization", "Attention",
        "FusedConv", "NhwcMaxPool", "QuickGelu",
    };

    /// <summary>Operators whose every output is bool.</summary>
    private static readonly HashSet<string> BoolOutputs = new(StringComparer.Ordinal)
    {
        "And", "Equal", "Greater", "GreaterOrEqual", "IsInf", "IsNaN", "Less", "LessOrEqual", "Not", "Or", "Xor",
    };

    /// <summary>
    /// Element types (ONNX <c>TensorProto.DataType</c> values) of the graph's values, and the operators that had no
    /// rule (their outputs are missing from the map).
    /// </summary>
    public static (Dictionary<string, int> Types, List<string> Unknown) Infer(GraphProto graph)
    {
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var initializer in graph.Initializer) types[initializer.Name] = initializer.DataType;
        foreach (var input in graph.Input)
        {
            if (input.Type?.TensorType is { } tensor && !types.ContainsKey(input.Name)) types[input.Name] = tensor.ElemType;
        }
        var unknown = new List<string>();
        foreach (var node in graph.Node)
        {
            var outputs = OutputTypes(node, types);
            if (outputs is null)
            {
                unknown.Add(node.Domain.Length == 0 ? node.OpType : $"{node.Domain}.{node.OpType}");
                continue;
            }
            for (int i = 0; i < node.Output.Count && i < outputs.Length; i++)
            {
                if (node.Output[i].Length > 0 && outputs[i] != 0) types[node.Output[i]] = outputs[i];
            }
        }
        return (types, unknown);
    }

    /// <summary>The element types of a node's outputs, or null when there is no rule for it (or its inputs are untyped).</summary>
    private static int[]? OutputTypes(NodeProto node, IReadOnlyDictionary<string, int> types)
    {
        int Input(int i) => i < node.Input.Count && types.TryGetValue(node.Input[i], out var t) ? t : 0;
        int[] All(int type) => type == 0 ? null! : Enumerable.Repeat(type, Math.Max(1, node.Output.Count)).ToArray();
        int Attribute(string name, int fallback) => NodeAttributes.Has(node, name) ? (int)NodeAttributes.GetInt(node, name, fallback) : fallback;
        const int Float = (int)DataType.Float, Int64 = (int)DataType.Int64, Bool = (int)DataType.Bool, Int32 = (int)DataType.Int32, Uint8 = (int)DataType.Uint8;

        if (node.Domain is "com.microsoft")
        {
            return node.OpType switch
            {
                "QuantizeLinear" => All(Input(2) != 0 ? Input(2) : Uint8),
                "DequantizeLinear" => All(Input(1)),
                "DynamicQuantizeMatMul" or "MatMulIntegerToFloat" or "DynamicQuantizeLSTM" => All(Float),
                "QLinearConv" or "QLinearMatMul" => All(Input(7)),
                "QLinearAdd" or "QLinearMul" => All(Input(7)),
                "QLinearAveragePool" or "QLinearGlobalAveragePool" or "QLinearSigmoid" or "QLinearLeakyRelu" or "QLinearSoftmax" => All(Input(4)),
                "QLinearConcat" => All(Input(1)),
                "QGemm" => All(node.Input.Count > 7 && node.Input[7].Length > 0 ? Input(7) : Float),
                _ when MicrosoftSameAsFirstInput.Contains(node.OpType) => All(Input(0)),
                _ => null,
            };
        }
        if (node.Domain.Length != 0 && node.Domain != "ai.onnx") return null;
        int[]? result = node.OpType switch
        {
            "Constant" => All(ConstantType(node)),
            "Cast" => All(Attribute("to", 0)),
            "CastLike" => All(Input(1)),
            "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" or "NonMaxSuppression" => All(Int64),
            _ when BoolOutputs.Contains(node.OpType) => All(Bool),
            "TopK" => new[] { Input(0), Int64 },
            "MaxPool" => new[] { Input(0), Int64 },
            "Unique" => new[] { Input(0), Int64, Int64, Int64 },
            "Dropout" => new[] { Input(0), Bool },
            "LayerNormalization" => new[] { Input(0), Attribute("stash_type", Float), Attribute("stash_type", Float) },
            "ConstantOfShape" => All(ConstantType(node) is var t && t != 0 ? t : Float),
            "QuantizeLinear" => All(Input(2) != 0 ? Input(2) : Attribute("output_dtype", 0) is var d && d != 0 ? d : Uint8),
            "DequantizeLinear" => All(Input(1)),
            "DynamicQuantizeLinear" => new[] { Uint8, Float, Uint8 },
            "MatMulInteger" or "ConvInteger" => All(Int32),
            "QLinearConv" or "QLinearMatMul" => All(Input(7)),
            "Where" => All(Input(1)),
            "OneHot" => All(Input(2)),
            "EyeLike" or "RandomNormalLike" or "RandomUniformLike" or "Bernoulli" => All(Attribute("dtype", Input(0))),
            "RandomNormal" or "RandomUniform" => All(Attribute("dtype", Float)),
            "Multinomial" => All(Attribute("dtype", Int32)),
            "If" or "Loop" or "Scan" => BodyOutputTypes(node),
            _ when SameAsFirstInput.Contains(node.OpType) => All(Input(0)),
            _ => null,
        };
        return result is null || result.All(t => t == 0) ? null : result;
    }

    /// <summary>The type of a Constant (or ConstantOfShape) value attribute, or 0 when it has none.</summary>
    private static int ConstantType(NodeProto node)
    {
        foreach (var attribute in node.Attribute)
        {
            switch (attribute.Name)
            {
                case "value": return attribute.T?.DataType ?? 0;
                case "value_float" or "value_floats": return (int)DataType.Float;
                case "value_int" or "value_ints": return (int)DataType.Int64;
                case "value_string" or "value_strings": return (int)DataType.String;
            }
        }
        return 0;
    }

    /// <summary>
    /// If: the then-branch's outputs. Loop: its body's outputs after the condition (carried values, then scan
    /// outputs). Scan: its body's outputs. Only where the body declares them.
    /// </summary>
    private static int[]? BodyOutputTypes(NodeProto node)
    {
        var body = node.Attribute.FirstOrDefault(a => a.Name is "then_branch" or "body")?.G;
        if (body is null) return null;
        var declared = body.Output.Select(o => o.Type?.TensorType?.ElemType ?? 0);
        var types = (node.OpType == "Loop" ? declared.Skip(1) : declared).ToArray();
        return types.Length < node.Output.Count || types.Take(node.Output.Count).Any(t => t == 0) ? null : types;
    }
}
