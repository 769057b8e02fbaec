namespace TinyLlama.Lab;

/// <summary>What the lab measured for one model.</summary>
/// <param name="Name">Row name.</param>
/// <param name="Bytes">Model file size (with external data).</param>
/// <param name="Perplexity">Per-character perplexity on the held-out text.</param>
/// <param name="Agreement">Share of held-out positions whose most likely next token is float's.</param>
/// <param name="TokensPerSecond">Greedy decoding at batch 1 with the cache, one thread.</param>
/// <param name="QuantizeSeconds">Time to quantize (0 for float).</param>
/// <param name="Sample">The greedy continuation of the prompt.</param>
public sealed record LabRow(string Name, long Bytes, double Perplexity, double Agreement, double TokensPerSecond, double QuantizeSeconds, string Sample);
