namespace MLNet.Quantization.WeightOnly;

/// <summary>Codes of 2, 4 or 8 bits packed into bytes, the first code in the lowest bits (MatMulNBits' order).</summary>
internal static class BitPacking
{
    /// <summary>Writes code number <paramref name="index"/> of <paramref name="bits"/> bits into <paramref name="packed"/>.</summary>
    public static void Set(Span<byte> packed, int index, int bits, int code)
    {
        int perByte = 8 / bits, shift = index % perByte * bits, mask = ((1 << bits) - 1) << shift;
        ref byte target = ref packed[index / perByte];
        target = (byte)((target & ~mask) | ((code << shift) & mask));
    }

    /// <summary>Reads code number <paramref name="index"/> of <paramref name="bits"/> bits.</summary>
    public static int Get(ReadOnlySpan<byte> packed, int index, int bits)
    {
        int perByte = 8 / bits;
        return (packed[index / perByte] >> (index % perByte * bits)) & ((1 << bits) - 1);
    }
}
