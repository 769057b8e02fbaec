using System.Text.Json;
using MLNet.Quantization.Calibration;

namespace MLNet.Quantization;

/// <summary>
/// Observed activation ranges, per calibration method and tensor: computed once, reused by every re-plan of a run,
/// and saved as JSON so a later run (another format, other overrides, tuning) skips calibration. Get it from
/// <see cref="QuantizationReport.Calibration"/>; pass it back with <see cref="QuantizationOptions.Calibration"/>.
/// </summary>
public sealed class CalibrationResult
{
    private readonly Dictionary<CalibrationMethod, Dictionary<string, TensorRange>> _ranges;

    /// <summary>An empty result.</summary>
    public CalibrationResult() => _ranges = new();

    private CalibrationResult(Dictionary<CalibrationMethod, Dictionary<string, TensorRange>> ranges) => _ranges = ranges;

    /// <summary>The graph name of the model the ranges were observed on (checked when the result is reused).</summary>
    public string ModelName { get; internal set; } = "";

    /// <summary>The ranges observed with <paramref name="method"/>, by tensor name.</summary>
    public IReadOnlyDictionary<string, TensorRange> RangesFor(CalibrationMethod method) =>
        _ranges.TryGetValue(method, out var ranges) ? ranges : new Dictionary<string, TensorRange>();

    /// <summary>A deep copy, so a run can add ranges without changing the caller's object.</summary>
    internal CalibrationResult Copy() =>
        new(_ranges.ToDictionary(kv => kv.Key, kv => new Dictionary<string, TensorRange>(kv.Value, StringComparer.Ordinal))) { ModelName = ModelName };

    /// <summary>The mutable range table for a method (created on first use).</summary>
    internal Dictionary<string, TensorRange> Table(CalibrationMethod method) =>
        _ranges.TryGetValue(method, out var ranges) ? ranges : _ranges[method] = new Dictionary<string, TensorRange>(StringComparer.Ordinal);

    /// <summary>Writes the ranges as JSON.</summary>
    /// <param name="path">Destination file.</param>
    public void Save(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        var document = new Document(ModelName, _ranges.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToDictionary(r => r.Key, r => new[] { r.Value.Min, r.Value.Max })));
        Onnx.AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, document, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads ranges written by <see cref="Save"/>; <see cref="InvalidDataException"/> names what is wrong.</summary>
    /// <param name="path">A calibration JSON file.</param>
    public static CalibrationResult Load(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"Calibration file '{path}' was not found.", path);
        Document? document;
        try
        {
            document = JsonSerializer.Deserialize<Document>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Calibration file '{path}' is not valid JSON ({e.Message}). Write it with --save-calibration.", e);
        }
        if (document?.Ranges is null) throw new InvalidDataException($"Calibration file '{path}' has no ranges. Write it with --save-calibration.");
        var ranges = new Dictionary<CalibrationMethod, Dictionary<string, TensorRange>>();
        foreach (var (methodName, tensors) in document.Ranges)
        {
            if (!Enum.TryParse<CalibrationMethod>(methodName, out var method))
                throw new InvalidDataException($"Calibration file '{path}' names an unknown calibration method '{methodName}' (MinMax, Percentile or Entropy).");
            var table = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
            foreach (var (tensor, pair) in tensors)
            {
                if (pair is not { Length: 2 } || !float.IsFinite(pair[0]) || !float.IsFinite(pair[1]) || pair[0] > pair[1])
                    throw new InvalidDataException($"Calibration file '{path}': the range of '{tensor}' must be [min, max] with finite min <= max.");
                table[tensor] = new TensorRange(pair[0], pair[1]);
            }
            ranges[method] = table;
        }
        return new CalibrationResult(ranges) { ModelName = document.ModelName ?? "" };
    }

    private sealed record Document(string? ModelName, Dictionary<string, Dictionary<string, float[]>>? Ranges);
}
