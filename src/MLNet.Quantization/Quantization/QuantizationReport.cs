using System.Globalization;
using System.Text;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization;

/// <summary>What a quantization run did: node decisions, weight bytes by element type before and after, time taken.</summary>
public sealed class QuantizationReport
{
    internal QuantizationReport(IReadOnlyList<NodeReport> nodes, IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after, TimeSpan elapsed, IReadOnlyList<TensorReport>? tensors = null, IReadOnlyList<string>? notes = null, IReadOnlyList<TuningTrial>? trials = null, CalibrationResult? calibration = null)
    {
        Calibration = calibration;
        Trials = trials ?? Array.Empty<TuningTrial>();
        Notes = notes ?? Array.Empty<string>();
        Nodes = nodes;
        Tensors = tensors ?? Array.Empty<TensorReport>();
        BytesBefore = before;
        BytesAfter = after;
        Elapsed = elapsed;
    }

    /// <summary>One entry per candidate node (nodes of a quantizable operator type), in graph order.</summary>
    public IReadOnlyList<NodeReport> Nodes { get; }

    /// <summary>Static mode: each quantized activation tensor with its range, scale and zero point (empty in dynamic mode).</summary>
    public IReadOnlyList<TensorReport> Tensors { get; }

    /// <summary>Bytes of constant tensors (initializers and Constant nodes) by element type, before quantization.</summary>
    public IReadOnlyDictionary<string, long> BytesBefore { get; }

    /// <summary>Bytes of constant tensors by element type after quantization.</summary>
    public IReadOnlyDictionary<string, long> BytesAfter { get; }

    /// <summary>Choices the run made on its own that change the result (e.g. 7-bit weights on a CPU without VNNI), one sentence each.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Static mode: every activation range known to the run (given or observed); save it to skip calibration next time.</summary>
    public CalibrationResult? Calibration { get; }

    /// <summary>With tuning or the latency guard: every candidate built and judged, in order.</summary>
    public IReadOnlyList<TuningTrial> Trials { get; }

    /// <summary>Wall-clock time of the run.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Number of nodes quantized.</summary>
    public int QuantizedNodeCount => Nodes.Count(n => n.Quantized);

    /// <summary>Total constant bytes before / after.</summary>
    public double CompressionRatio => BytesAfter.Values.Sum() == 0 ? 1 : (double)BytesBefore.Values.Sum() / BytesAfter.Values.Sum();

    /// <summary>A human-readable summary: counts, bytes by type, and each node left float with its reason.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Quantized {QuantizedNodeCount} of {Nodes.Count} candidate nodes in {Elapsed.TotalMilliseconds:F0} ms.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Weights: {FormatBytes(BytesBefore)} -> {FormatBytes(BytesAfter)} ({CompressionRatio:F2}x smaller).");
        foreach (var note in Notes) text.AppendLine(CultureInfo.InvariantCulture, $"Note: {note}");
        if (Tensors.Count > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"Activations: {Tensors.Count} tensors quantized ({Tensors.Count(t => t.Source == "calibrated")} calibrated, the rest sharing a range).");
        foreach (var group in Nodes.Where(n => n.Quantized).GroupBy(n => n.Detail))
            text.AppendLine(CultureInfo.InvariantCulture, $"  quantized ({group.Count()}): {group.Key} [{string.Join(", ", group.Take(3).Select(n => n.NodeName))}{(group.Count() > 3 ? ", ..." : "")}]");
        foreach (var group in Nodes.Where(n => !n.Quantized).GroupBy(n => n.Detail))
            text.AppendLine(CultureInfo.InvariantCulture, $"  float ({group.Count()}): {group.Key} [{string.Join(", ", group.Take(3).Select(n => n.NodeName))}{(group.Count() > 3 ? ", ..." : "")}]");
        return text.ToString();
    }

    /// <summary>Bytes of the model's constant tensors by element type name.</summary>
    internal static Dictionary<string, long> MeasureConstants(ModelProto model)
    {
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        void Count(TensorProto t)
        {
            var name = ElementType.Name(t.DataType);
            bytes[name] = bytes.GetValueOrDefault(name) + TensorData.ElementCount(t) * Math.Max(1, ElementType.SizeOf(t.DataType));
        }
        foreach (var tensor in model.Graph.Initializer) Count(tensor);
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "Constant"))
            foreach (var attribute in node.Attribute.Where(a => a.T is not null)) Count(attribute.T);
        return bytes;
    }

    private static string FormatBytes(IReadOnlyDictionary<string, long> bytes) =>
        string.Join(" + ", bytes.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value / 1024.0:F1} KiB {kv.Key}"));
}
