using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Emitters;

/// <summary>Writes one quantized node in QOperator form (its family writes the operator) and keeps track of which tensors exist in 8-bit form.</summary>
internal sealed class QOperatorWriter
{
    private readonly StaticEmitContext _context;
    private readonly Dictionary<string, string> _quantized = new(StringComparer.Ordinal);

    /// <summary>Creates a writer over <paramref name="context"/>.</summary>
    public QOperatorWriter(StaticEmitContext context) => _context = context;

    /// <summary>The rewrite's shared state.</summary>
    public StaticEmitContext Context => _context;

    /// <summary>Writes the node whose (possibly renamed) output is <paramref name="output"/>; returns the report detail.</summary>
    public string Write(StaticNodePlan entry, string output)
    {
        var node = entry.Node;
        bool quantizedOutput = _context.Plan.ActivationTensors.Contains(output);
        var outputName = quantizedOutput ? _context.Graph.UniqueName($"{EmitContext.Sanitize(output)}_quantized") : output;
        string detail = entry.Family.WriteQOperator(this, entry, outputName, output);
        if (quantizedOutput)
        {
            _quantized[output] = outputName;
            if (NeedsFloat(output))
            {
                var (scale, zeroPoint) = _context.ParameterInitializers(output);
                _context.AddNode("DequantizeLinear", "", $"{EmitContext.Sanitize(output)}_DequantizeLinear", new[] { outputName, scale, zeroPoint }, new[] { output });
            }
        }
        return detail;
    }

    private bool NeedsFloat(string tensor) =>
        _context.Graph.IsObservedOutsideMainGraph(tensor)
        || _context.Graph.Consumers(tensor).Any(c => !_context.Plan.Nodes.ContainsKey(c) || _context.Plan.FoldedActivations.Contains(c));

    /// <summary>The 8-bit form of an activation: produced by a quantized node, or quantized here on entry.</summary>
    public (string Data, string Scale, string ZeroPoint) Quantized(string tensor)
    {
        var (scale, zeroPoint) = _context.ParameterInitializers(tensor);
        if (!_quantized.TryGetValue(tensor, out var name))
        {
            var stem = EmitContext.Sanitize(tensor);
            name = _context.AddNode("QuantizeLinear", "", $"{stem}_QuantizeLinear", new[] { tensor, scale, zeroPoint }, new[] { _context.Graph.UniqueName($"{stem}_quantized") });
            _quantized[tensor] = name;
        }
        return (name, scale, zeroPoint);
    }

    /// <summary>Adds a node named after <paramref name="stem"/> with copies of <paramref name="attributes"/>.</summary>
    public void Add(string opType, string domain, string stem, IEnumerable<string> inputs, string output, IEnumerable<AttributeProto> attributes) =>
        _context.AddNode(opType, domain, $"{stem}_{opType}", inputs, new[] { output }, attributes.Select(a => a.Clone()).ToArray());

    /// <summary>The name stem for nodes replacing <paramref name="node"/>: its name, else its output's.</summary>
    public static string StemOf(NodeProto node, string output) => EmitContext.Sanitize(node.Name.Length > 0 ? node.Name : output);
}
