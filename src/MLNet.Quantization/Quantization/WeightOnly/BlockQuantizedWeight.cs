namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// A [K, N] weight in MatMulNBits' layout: for each output column n and block b of <see cref="BlockSize"/> rows,
/// <see cref="BytesPerBlock"/> bytes of codes (first code in the lowest bits), one scale, and (asymmetric) one zero
/// point, packed like the codes per column.
/// </summary>
/// <param name="K">Rows of the float weight (the reduction axis).</param>
/// <param name="N">Columns of the float weight (outputs).</param>
/// <param name="Bits">Bits per code.</param>
/// <param name="BlockSize">Codes per block.</param>
/// <param name="Codes">[N, blocks, BytesPerBlock] packed codes.</param>
/// <param name="Scales">[N, blocks] scales.</param>
/// <param name="ZeroPoints">[N, ZeroPointBytesPerColumn] packed zero points, or null (symmetric: the middle code).</param>
internal sealed record BlockQuantizedWeight(int K, int N, int Bits, int BlockSize, byte[] Codes, float[] Scales, byte[]? ZeroPoints)
{
    /// <summary>Blocks per column: K / BlockSize, rounded up (the last block is padded).</summary>
    public int BlockCount => (K + BlockSize - 1) / BlockSize;

    /// <summary>Bytes of codes per block.</summary>
    public int BytesPerBlock => BlockSize * Bits / 8;

    /// <summary>Bytes of packed zero points per column.</summary>
    public int ZeroPointBytesPerColumn => (BlockCount * Bits + 7) / 8;

    /// <summary>Stored bits (codes, float scales, zero points) per weight of the float matrix.</summary>
    public double BitsPerWeight => (Codes.LongLength * 8.0 + Scales.LongLength * 32.0 + (ZeroPoints?.LongLength ?? 0) * 8.0) / ((double)K * N);
}
