using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>Reads node attributes with defaults.</summary>
internal static class NodeAttributes
{
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
