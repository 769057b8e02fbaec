using Google.Protobuf;
using MLNet.Quantization.Onnx.Protos;
using AttributeType = MLNet.Quantization.Onnx.Protos.AttributeProto.Types.AttributeType;

namespace MLNet.Quantization.Onnx;

/// <summary>A node attribute for <see cref="GraphBuilder.Node"/>: an integer, a float, a string or a list of them.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(AttributeProto proto) => Proto = proto;

    /// <summary>The attribute's name.</summary>
    public string Name => Proto.Name;

    internal AttributeProto Proto { get; }

    /// <summary>An INT attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    public static OnnxAttribute Int(string name, long value) => new(new AttributeProto { Name = name, Type = AttributeType.Int, I = value });

    /// <summary>A FLOAT attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    public static OnnxAttribute Float(string name, float value) => new(new AttributeProto { Name = name, Type = AttributeType.Float, F = value });

    /// <summary>A STRING attribute (UTF-8).</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    public static OnnxAttribute String(string name, string value) => new(new AttributeProto { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    /// <summary>An INTS attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">Values.</param>
    public static OnnxAttribute Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return new(attribute);
    }

    /// <summary>A FLOATS attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">Values.</param>
    public static OnnxAttribute Floats(string name, params float[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Floats };
        attribute.Floats.AddRange(values);
        return new(attribute);
    }

    /// <summary>A TENSOR attribute (e.g. the value of a Constant node).</summary>
    internal static OnnxAttribute Tensor(string name, TensorProto value) => new(new AttributeProto { Name = name, Type = AttributeType.Tensor, T = value });
}
