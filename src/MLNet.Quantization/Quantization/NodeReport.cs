namespace MLNet.Quantization;

/// <summary>What happened to one candidate node.</summary>
/// <param name="NodeName">The node's name (generated as OpType#index when the model gives none).</param>
/// <param name="OpType">The node's operator type.</param>
/// <param name="Quantized">Whether it was quantized.</param>
/// <param name="Detail">How it was quantized, or why it stayed float.</param>
public sealed record NodeReport(string NodeName, string OpType, bool Quantized, string Detail);
