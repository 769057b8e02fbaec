namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// A weight in MatMulBnb4's layout: the [N, K] matrix (the transpose of a MatMul's B) flattened row by row and cut into
/// blocks of <see cref="BlockSize"/> values (the last one shorter), each scaled by its absolute maximum; two 4-bit codes
/// per byte, the first in the high nibble.
/// </summary>
/// <param name="K">Rows of the MatMul weight (the reduction axis).</param>
/// <param name="N">Columns of the MatMul weight (outputs).</param>
/// <param name="BlockSize">Values per block of the flattened [N, K] matrix.</param>
/// <param name="Codes">(N·K + 1) / 2 bytes of codes.</param>
/// <param name="Absmax">One absolute maximum per block.</param>
internal sealed record Bnb4Weight(int K, int N, int BlockSize, byte[] Codes, float[] Absmax)
{
    /// <summary>Stored bits (codes and float absmax) per weight of the float matrix.</summary>
    public double BitsPerWeight => (Codes.LongLength * 8.0 + Absmax.LongLength * 32.0) / ((double)K * N);
}
