using Google.Protobuf;
using MLNet.Quantization.Onnx.Protos;
using AttributeType = MLNet.Quantization.Onnx.Protos.AttributeProto.Types.AttributeType;

namespace MLNet.Quantization.Onnx;

/// <summary>Creates node attributes and reads them with defaults.</summary>
public static class NodeAttributes
{
    /// <summary>An INT attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    /// <summary>A FLOAT attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    /// <summary>A STRING attribute (UTF-8).</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Value.</param>
    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>An INTS attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">Values.</param>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A FLOATS attribute.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">Values.</param>
    public static AttributeProto Floats(string name, params float[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Floats };
        attribute.Floats.AddRange(values);
        return attribute;
    }

    /// <summary>A TENSOR attribute (e.g. the value of a Constant node).</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="value">Tensor.</param>
    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeType.Tensor, T = value };

    /// <summary>The node's INT attribute, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="node">The node.</param>
    /// <param name="name">Attribute name.</param>
    /// <param name="defaultValue">Value when absent.</param>
    public static long GetInt(NodeProto node, string name, long defaultValue) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : defaultValue;

    /// <summary>The node's FLOAT attribute, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="node">The node.</param>
    /// <param name="name">Attribute name.</param>
    /// <param name="defaultValue">Value when absent.</param>
    public static float GetFloat(NodeProto node, string name, float defaultValue) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : defaultValue;

    /// <summary>The node's STRING attribute, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="node">The node.</param>
    /// <param name="name">Attribute name.</param>
    /// <param name="defaultValue">Value when absent.</param>
    public static string GetString(NodeProto node, string name, string defaultValue) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : defaultValue;

    /// <summary>Whether the node carries an attribute of this name.</summary>
    /// <param name="node">The node.</param>
    /// <param name="name">Attribute name.</param>
    public static bool Has(NodeProto node, string name) => node.Attribute.Any(a => a.Name == name);
}
