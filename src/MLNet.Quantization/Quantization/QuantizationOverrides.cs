using System.Text.Json;

namespace MLNet.Quantization;

/// <summary>
/// Per-node and per-tensor exceptions to the plan, in the spirit of ONNX Runtime's tensor quant overrides: nodes kept
/// float, activation ranges fixed by hand (static mode), weights quantized per tensor or per channel. Names that are
/// not in the model are an error, so a typo is never silently ignored.
/// </summary>
public sealed record QuantizationOverrides
{
    /// <summary>Nodes (by name) that stay float, reported as "kept float by an override".</summary>
    public IReadOnlyList<string> KeepFloat { get; init; } = Array.Empty<string>();

    /// <summary>Per-tensor settings, by tensor name: activations (range) or weights (per-channel).</summary>
    public IReadOnlyDictionary<string, TensorOverride> Tensors { get; init; } = new Dictionary<string, TensorOverride>();

    /// <summary>
    /// Reads overrides from JSON: <c>{ "keepFloat": ["node"], "tensors": { "name": { "min": -1, "max": 1, "perChannel": false, "type": "Int8", "symmetric": true } } }</c>.
    /// </summary>
    /// <param name="path">The JSON file.</param>
    public static QuantizationOverrides Load(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"Overrides file '{path}' was not found.", path);
        try
        {
            var parsed = JsonSerializer.Deserialize<QuantizationOverrides>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } })
                ?? throw new InvalidDataException($"Overrides file '{path}' is empty.");
            parsed.Validate();
            return parsed;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Overrides file '{path}' is not valid JSON ({e.Message}). Expected {{ \"keepFloat\": [...], \"tensors\": {{ \"name\": {{ \"min\": ..., \"max\": ..., \"perChannel\": ..., \"type\": \"UInt8\" | \"Int8\", \"symmetric\": ... }} }} }}.", e);
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> for a range that cannot work.</summary>
    public void Validate()
    {
        foreach (var (name, tensor) in Tensors)
        {
            if ((tensor.Min is null) != (tensor.Max is null))
                throw new InvalidDataException($"Override for tensor '{name}': give both min and max, or neither.");
            if (tensor.Min is { } min && tensor.Max is { } max && !(float.IsFinite(min) && float.IsFinite(max) && min < max))
                throw new InvalidDataException($"Override for tensor '{name}': min ({min}) must be finite and below max ({max}).");
            if (tensor.Type is { } type && !Enum.IsDefined(type))
                throw new InvalidDataException($"Override for tensor '{name}': type must be UInt8 or Int8.");
        }
    }

    /// <summary>The tensors whose override sets activation properties (range, type, symmetry).</summary>
    internal IEnumerable<string> ActivationTensors => Tensors.Where(t => t.Value.SetsActivation).Select(t => t.Key);

    /// <summary>Throws <see cref="ArgumentException"/> naming the overridden nodes and tensors the model does not have.</summary>
    internal void CheckNames(Onnx.Protos.GraphProto graph)
    {
        var nodes = graph.Node.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var values = graph.Node.SelectMany(n => n.Output).Concat(graph.Input.Select(i => i.Name)).Concat(graph.Initializer.Select(t => t.Name)).ToHashSet(StringComparer.Ordinal);
        var missingNodes = KeepFloat.Where(n => !nodes.Contains(n)).ToList();
        var missingTensors = Tensors.Keys.Where(t => !values.Contains(t)).ToList();
        if (missingNodes.Count + missingTensors.Count == 0) return;
        throw new ArgumentException($"The overrides name what the model does not have: {string.Join("; ", missingNodes.Select(n => $"node '{n}'").Concat(missingTensors.Select(t => $"tensor '{t}'")))}. Check the names with 'mlnet-quantize inspect'.");
    }
}

/// <summary>One tensor's override.</summary>
/// <param name="Min">Static mode: the activation range's lower end, used instead of calibration (with <paramref name="Max"/>).</param>
/// <param name="Max">Static mode: the activation range's upper end.</param>
/// <param name="PerChannel">For a weight: one scale per output channel (true) or per tensor (false), overriding <see cref="QuantizationOptions.PerChannel"/>.</param>
/// <param name="Type">Static mode, QDQ format: the activation's element type, overriding <see cref="QuantizationOptions.ActivationType"/>.</param>
/// <param name="Symmetric">Static mode: the activation's range centred on 0, overriding <see cref="QuantizationOptions.SymmetricActivations"/>.</param>
public sealed record TensorOverride(float? Min = null, float? Max = null, bool? PerChannel = null, QuantizedType? Type = null, bool? Symmetric = null)
{
    /// <summary>Whether the override sets anything about the tensor as an activation (range, type or symmetry).</summary>
    internal bool SetsActivation => Min is not null || Type is not null || Symmetric is not null;
}
