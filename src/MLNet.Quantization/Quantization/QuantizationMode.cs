namespace MLNet.Quantization;

/// <summary>How activations are quantized.</summary>
public enum QuantizationMode
{
    /// <summary>Weights are stored as 8-bit integers; activations are quantized at run time from their observed range.</summary>
    Dynamic = 0,

    /// <summary>
    /// Weights and activations are 8-bit; activation ranges are fixed ahead of time by calibration on representative
    /// data, so the runtime can run integer kernels end to end.
    /// </summary>
    Static = 1,
}
