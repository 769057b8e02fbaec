using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNet.Quantization;

/// <summary>The per-tensor comparison of a quantized model with its float model; see <see cref="QuantizationDebugger"/>.</summary>
public sealed class DebugReport
{
    internal DebugReport(IReadOnlyList<TensorComparison> tensors, IReadOnlyList<string> unmatched, int samples)
    {
        Tensors = tensors;
        Unmatched = unmatched;
        Samples = samples;
    }

    /// <summary>Every matched tensor, in the float model's graph order.</summary>
    public IReadOnlyList<TensorComparison> Tensors { get; }

    /// <summary>The matched tensors, worst first (lowest SQNR).</summary>
    [JsonIgnore]
    public IReadOnlyList<TensorComparison> Ranked => Tensors.OrderBy(t => t.SqnrDb).ThenBy(t => t.Cosine).ToList();

    /// <summary>The float → quantized tensor name map the comparison used.</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> TensorMap => Tensors.ToDictionary(t => t.FloatTensor, t => t.QuantizedTensor, StringComparer.Ordinal);

    /// <summary>Float tensors with no counterpart in the quantized model (fused away or removed).</summary>
    public IReadOnlyList<string> Unmatched { get; }

    /// <summary>How many samples were compared.</summary>
    public int Samples { get; }

    /// <summary>The report as indented JSON (infinite SQNR written as a string).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });
}
