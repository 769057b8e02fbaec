namespace MLNet.Quantization;

/// <summary>How activations are quantized.</summary>
public enum QuantizationMode
{
    /// <summary>Weights are stored as 8-bit integers; activations are quantized at run time from their observed range.</summary>
    Dynamic = 0,
}
