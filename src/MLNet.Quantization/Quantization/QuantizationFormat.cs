namespace MLNet.Quantization;

/// <summary>How a statically quantized model is written.</summary>
public enum QuantizationFormat
{
    /// <summary>
    /// QuantizeLinear/DequantizeLinear pairs around float operators; ONNX Runtime fuses them into integer kernels.
    /// Portable and the default.
    /// </summary>
    Qdq = 0,

    /// <summary>Integer operators written directly (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...).</summary>
    QOperator = 1,
}
