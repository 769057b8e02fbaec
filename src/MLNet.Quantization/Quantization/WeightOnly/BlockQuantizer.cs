namespace MLNet.Quantization.WeightOnly;

/// <summary>Quantizes a float matrix block by block along K into <see cref="BlockQuantizedWeight"/> (RTN or HQQ).</summary>
internal static class BlockQuantizer
{
    /// <summary>
    /// Quantizes a weight stored row-major as [K, N] (a MatMul's B) or, with <paramref name="transposed"/>, as [N, K]
    /// (a Gemm's B with transB). Row blocks are quantized in parallel; memory beyond the output is one block row.
    /// </summary>
    public static BlockQuantizedWeight Quantize(ReadOnlySpan<float> weight, int k, int n, bool transposed, WeightOnlyOptions options)
    {
        if ((long)k * n != weight.Length) throw new ArgumentException($"The weight holds {weight.Length} values, not {k} x {n}.", nameof(weight));
        int bits = options.Bits, blockSize = options.BlockSize, maxCode = (1 << bits) - 1;
        int blocks = (k + blockSize - 1) / blockSize, bytesPerBlock = blockSize * bits / 8;
        var codes = new byte[(long)n * blocks * bytesPerBlock];
        var scales = new float[(long)n * blocks];
        var unpackedZeroPoints = options.Symmetric ? null : new byte[(long)n * blocks];
        unsafe
        {
            fixed (float* source = weight)
            {
                var pointer = (IntPtr)source;
                int length = weight.Length;
                Parallel.For(0, blocks, () => (Column: new float[n * blockSize], Work: new float[blockSize]), (block, _, buffers) =>
                {
                    var values = new ReadOnlySpan<float>((float*)pointer, length);
                    int first = block * blockSize, rows = Math.Min(blockSize, k - first);
                    Gather(values, k, n, transposed, first, rows, blockSize, buffers.Column);
                    for (int column = 0; column < n; column++)
                    {
                        var block_ = new ReadOnlySpan<float>(buffers.Column, column * blockSize, rows);
                        var parameters = BlockParameters.RoundToNearest(block_, bits, options.Symmetric);
                        if (options.Algorithm == WeightOnlyAlgorithm.Hqq) parameters = HqqOptimizer.Refine(block_, bits, options.Symmetric, parameters, buffers.Work);
                        long index = (long)column * blocks + block;
                        scales[index] = parameters.Scale;
                        var packed = codes.AsSpan((int)(index * bytesPerBlock), bytesPerBlock);
                        for (int i = 0; i < blockSize; i++)
                            BitPacking.Set(packed, i, bits, i < rows ? parameters.Code(block_[i], maxCode) : parameters.ZeroPoint);
                        if (unpackedZeroPoints is not null) unpackedZeroPoints[index] = (byte)parameters.ZeroPoint;
                    }
                    return buffers;
                }, _ => { });
            }
        }
        return new BlockQuantizedWeight(k, n, bits, blockSize, codes, scales, unpackedZeroPoints is null ? null : PackZeroPoints(unpackedZeroPoints, n, blocks, bits));
    }

    /// <summary>Packs [n, blocks] zero points per column, each column starting on a byte.</summary>
    internal static byte[] PackZeroPoints(byte[] zeroPoints, int n, int blocks, int bits)
    {
        int bytesPerColumn = (blocks * bits + 7) / 8;
        var packed = new byte[(long)n * bytesPerColumn];
        for (int column = 0; column < n; column++)
        {
            var target = packed.AsSpan(column * bytesPerColumn, bytesPerColumn);
            for (int block = 0; block < blocks; block++) BitPacking.Set(target, block, bits, zeroPoints[(long)column * blocks + block]);
        }
        return packed;
    }

    /// <summary>Copies rows [first, first + rows) of every column into <paramref name="columns"/> as [n, blockSize].</summary>
    private static void Gather(ReadOnlySpan<float> weight, int k, int n, bool transposed, int first, int rows, int blockSize, float[] columns)
    {
        if (transposed)
        {
            for (int column = 0; column < n; column++)
                weight.Slice(column * k + first, rows).CopyTo(columns.AsSpan(column * blockSize, rows));
            return;
        }
        for (int i = 0; i < rows; i++)
        {
            var row = weight.Slice((first + i) * n, n);
            for (int column = 0; column < n; column++) columns[column * blockSize + i] = row[column];
        }
    }
}
