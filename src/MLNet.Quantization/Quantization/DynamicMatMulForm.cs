namespace MLNet.Quantization;

/// <summary>Which operators a dynamically quantized MatMul or Gemm is written as.</summary>
public enum DynamicMatMulForm
{
    /// <summary>
    /// One <c>com.microsoft.DynamicQuantizeMatMul</c> node per matrix product, with a following bias Add folded in.
    /// ONNX Runtime's fastest CPU path; works with any default-domain opset.
    /// </summary>
    Fused = 0,

    /// <summary>
    /// The standard-ONNX chain DynamicQuantizeLinear → MatMulInteger → Cast → Mul, one DynamicQuantizeLinear shared
    /// by all consumers of a tensor (needs opset 11). Portable to runtimes without Microsoft's contrib operators.
    /// </summary>
    OperatorChain = 1,
}
