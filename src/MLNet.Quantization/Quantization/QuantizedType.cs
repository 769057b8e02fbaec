namespace MLNet.Quantization;

/// <summary>An 8-bit integer element type for quantized tensors.</summary>
public enum QuantizedType
{
    /// <summary>Signed 8-bit (-128..127); weights are stored symmetric around 0 by default.</summary>
    Int8 = 0,

    /// <summary>Unsigned 8-bit (0..255) with a zero point.</summary>
    UInt8 = 1,
}
