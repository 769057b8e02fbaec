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
}
