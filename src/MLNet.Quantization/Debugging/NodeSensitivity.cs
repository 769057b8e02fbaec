namespace MLNet.Quantization;

/// <summary>The error at the model's outputs when only one node is quantized, on evaluation data.</summary>
/// <param name="NodeName">The node.</param>
/// <param name="OpType">Its operator type.</param>
/// <param name="Agreement">Argmax agreement with float over each output's last axis.</param>
/// <param name="Cosine">Cosine of all outputs with float's.</param>
public sealed record NodeSensitivity(string NodeName, string OpType, double Agreement, double Cosine);
