namespace MLNet.Quantization.WeightOnly;

/// <summary>Quantizes a float matrix into <see cref="Bnb4Weight"/> with the NF4 or FP4 code book (blocks in parallel).</summary>
internal static class Bnb4Quantizer
{
    /// <summary>
    /// Quantizes a weight stored row-major as [K, N] (a MatMul's B) or, with <paramref name="transposed"/>, as [N, K]
    /// (a Gemm's B with transB): each value is divided by its block's absolute maximum and takes the nearest code.
    /// </summary>
    public static Bnb4Weight Quantize(ReadOnlySpan<float> weight, int k, int n, bool transposed, WeightOnlyFormat format, int blockSize)
    {
        if ((long)k * n != weight.Length) throw new ArgumentException($"The weight holds {weight.Length} values, not {k} x {n}.", nameof(weight));
        var book = format switch
        {
            WeightOnlyFormat.Nf4 => FourBitCodeBook.Nf4,
            WeightOnlyFormat.Fp4 => FourBitCodeBook.Fp4,
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "MatMulBnb4 reads NF4 or FP4 codes."),
        };
        long count = (long)k * n;
        float[] flat = new float[count];
        if (transposed) weight.CopyTo(flat);
        else
        {
            for (int row = 0; row < k; row++)
            {
                var source = weight.Slice(row * n, n);
                for (int column = 0; column < n; column++) flat[(long)column * k + row] = source[column];
            }
        }
        int blocks = (int)((count + blockSize - 1) / blockSize);
        var absmax = new float[blocks];
        var codes = new byte[(count + 1) / 2];
        int zeroCode = FourBitCodeBook.Nearest(book, 0f);
        Parallel.For(0, blocks, block =>
        {
            long first = (long)block * blockSize, end = Math.Min(first + blockSize, count);
            float max = 0;
            for (long i = first; i < end; i++) max = MathF.Max(max, MathF.Abs(flat[i]));
            absmax[block] = max;
            float reciprocal = max == 0 ? 0 : 1 / max;
            for (long i = first; i < end; i += 2)
            {
                int high = FourBitCodeBook.Nearest(book, flat[i] * reciprocal);
                int low = i + 1 < end ? FourBitCodeBook.Nearest(book, flat[i + 1] * reciprocal) : zeroCode;
                codes[i / 2] = (byte)((high << 4) | low);
            }
        });
        return new Bnb4Weight(k, n, blockSize, codes, absmax);
    }
}
