namespace MLNet.Quantization;

/// <summary>How weight-only quantization picks each block's scale and zero point.</summary>
public enum WeightOnlyAlgorithm
{
    /// <summary>Round to nearest: each block's range is its minimum and maximum (with 0 inside). No data, fastest.</summary>
    Rtn = 0,

    /// <summary>
    /// Half-quadratic quantization (HQQ, Badri &amp; Shaji 2023): starting from RTN, alternately shrinks the block's
    /// error towards a sparse, heavy-tailed form (an lp norm with p &lt; 1) and solves for the zero point and scale in
    /// closed form, keeping the best iterate. No data; outlier weights stop dictating the whole block's grid.
    /// </summary>
    Hqq = 1,

    /// <summary>
    /// GPTQ (Frantar et al. 2023): needs calibration data. Layers are quantized in graph order, and each layer's input
    /// statistics H = Σ xᵀx are observed on the inputs that reach it through the layers already quantized; rows of
    /// the weight are quantized in order and each row's rounding error is compensated on the rows still to come
    /// through H⁻¹, so the layer's output, not its weight, stays closest to float. Memory holds one layer's weight and
    /// Hessian (two with act-order) plus the values each calibration sample still needs, which grow with samples ×
    /// tokens, never the whole model. Embedding tables (Gather) have no inputs to observe and use RTN.
    /// </summary>
    Gptq = 2,
}
