namespace MLNet.Quantization.Operators;

/// <summary>The role an operator plays in a statically quantized graph.</summary>
internal enum StaticOperatorKind
{
    /// <summary>Conv, MatMul, Gemm: integer products with a weight (and bias); quantized whenever eligible.</summary>
    Product,

    /// <summary>Add, Mul: quantized only inside an integer region (inputs produced and output read by quantized nodes).</summary>
    Binary,

    /// <summary>AveragePool, GlobalAveragePool, Sigmoid, Softmax, Concat: own output range; output read only by quantized nodes.</summary>
    Unary,

    /// <summary>MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Slice, Resize, Gather over data: output reuses the input's scale.</summary>
    PassThrough,

    /// <summary>Relu, Clip: folded into the range of the tensor they produce (the quantizer's clamp does the clipping).</summary>
    FoldedActivation,

    /// <summary>Gather over a constant table (embeddings): the table is stored 8-bit and gathered before dequantizing.</summary>
    TableLookup,
}
