using System.Numerics.Tensors;

namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// GPTQ (Frantar et al. 2023) for one [K, N] weight: rows of K are quantized one at a time, in order, and each row's
/// rounding error is spread onto the rows not yet quantized through the inverse Hessian of the layer's inputs, so the
/// layer's output on the calibration data, not the weight itself, stays as close to float as it can. Block
/// parameters are round-to-nearest over the error-corrected rows of each block, taken when the block starts. With
/// act-order (<see cref="WeightOnlyOptions.GptqActOrder"/>) rows are visited by decreasing Hessian diagonal — the inputs
/// with the most energy first, while the most rows remain to absorb their error — and each block's parameters are
/// fixed beforehand from the float weight ("static groups"), so the stored layout stays MatMulNBits' natural blocks
/// (no g_idx). Updates are applied lazily in batches of rows, so the remaining weight is streamed once per batch.
/// </summary>
internal static class GptqSolver
{
    /// <summary>Rows handled per lazy batch (rounded up to a multiple of the block size).</summary>
    private const int LazyBatch = 128;

    /// <summary>
    /// Quantizes <paramref name="weight"/> ([K, N] row-major; changed in place) given H = Σ xᵀx, which is overwritten
    /// by its inverse factor (so the solver needs no second K×K buffer; act-order factors a permuted copy).
    /// </summary>
    public static BlockQuantizedWeight Quantize(float[] weight, int k, int n, SymmetricMatrix hessian, WeightOnlyOptions options) =>
        Quantize(weight, k, n, GptqFactor.Of(hessian, options), options);

    /// <summary>Output columns quantized at a time by <see cref="QuantizeByColumns"/>.</summary>
    public const int ColumnSlab = 4096;

    /// <summary>
    /// Quantizes a [K, N] weight <see cref="ColumnSlab"/> output columns at a time: given the factor, GPTQ treats every
    /// column on its own, so the slabs give the same codes as the whole weight while only one slab is in memory.
    /// </summary>
    /// <param name="readColumns">Reads columns [first, first + count) as a new [K, count] row-major array.</param>
    /// <param name="k">Rows (inputs).</param>
    /// <param name="n">Columns (outputs).</param>
    /// <param name="factor">The factor of the inputs' Hessian.</param>
    /// <param name="options">Bits, block size, symmetry.</param>
    public static BlockQuantizedWeight QuantizeByColumns(Func<int, int, float[]> readColumns, int k, int n, GptqFactor factor, WeightOnlyOptions options)
    {
        if (n <= ColumnSlab) return Quantize(readColumns(0, n), k, n, factor, options);
        BlockQuantizedWeight? whole = null;
        for (int first = 0; first < n; first += ColumnSlab)
        {
            int count = Math.Min(ColumnSlab, n - first);
            var slab = Quantize(readColumns(first, count), k, count, factor, options);
            whole ??= new BlockQuantizedWeight(k, n, slab.Bits, slab.BlockSize, new byte[(long)n * slab.BlockCount * slab.BytesPerBlock], new float[(long)n * slab.BlockCount],
                slab.ZeroPoints is null ? null : new byte[(long)n * slab.ZeroPointBytesPerColumn]);
            slab.Codes.CopyTo(whole.Codes, (long)first * slab.BlockCount * slab.BytesPerBlock);
            slab.Scales.CopyTo(whole.Scales, (long)first * slab.BlockCount);
            slab.ZeroPoints?.CopyTo(whole.ZeroPoints!, (long)first * slab.ZeroPointBytesPerColumn);
        }
        return whole!;
    }

    /// <summary>
    /// Quantizes <paramref name="weight"/> ([K, N] row-major; changed in place) with a factor made from its inputs'
    /// Hessian; one factor serves every weight that reads the same input (q/k/v, gate/up).
    /// </summary>
    public static BlockQuantizedWeight Quantize(float[] weight, int k, int n, GptqFactor factor, WeightOnlyOptions options)
    {
        if (factor.Inverse.Size != k || factor.ActOrder != options.GptqActOrder) throw new ArgumentException("The GPTQ factor was made for another input width or order.", nameof(factor));
        int bits = options.Bits, blockSize = options.BlockSize, maxCode = (1 << bits) - 1;
        int blocks = (k + blockSize - 1) / blockSize, bytesPerBlock = blockSize * bits / 8;
        var codes = new byte[(long)n * blocks * bytesPerBlock];
        var scales = new float[(long)n * blocks];
        var zeroPoints = new byte[(long)n * blocks];
        if (options.GptqActOrder)
        {
            QuantizeInActOrder(weight, k, n, factor, options, codes, scales, zeroPoints);
            return new BlockQuantizedWeight(k, n, bits, blockSize, codes, scales, options.Symmetric ? null : BlockQuantizer.PackZeroPoints(zeroPoints, n, blocks, bits));
        }
        foreach (int input in factor.DeadInputs) weight.AsSpan((int)((long)input * n), n).Clear();
        var inverse = factor.Inverse;
        var parameters = new BlockParameters[n];
        var column = new float[blockSize];
        int batch = (LazyBatch + blockSize - 1) / blockSize * blockSize;
        var errors = new float[(long)Math.Min(batch, k) * n];
        for (int first = 0; first < k; first += batch)
        {
            int last = Math.Min(first + batch, k);
            for (int row = first; row < last; row++)
            {
                if (row % blockSize == 0)
                {
                    int block = row / blockSize, rows = Math.Min(blockSize, k - row);
                    for (int c = 0; c < n; c++)
                    {
                        for (int i = 0; i < rows; i++) column[i] = weight[(long)(row + i) * n + c];
                        parameters[c] = BlockParameters.RoundToNearest(column.AsSpan(0, rows), bits, options.Symmetric);
                        scales[(long)c * blocks + block] = parameters[c].Scale;
                        zeroPoints[(long)c * blocks + block] = (byte)parameters[c].ZeroPoint;
                        if (rows < blockSize)
                        {
                            var packed = codes.AsSpan((int)(((long)c * blocks + block) * bytesPerBlock), bytesPerBlock);
                            for (int i = rows; i < blockSize; i++) BitPacking.Set(packed, i, bits, parameters[c].ZeroPoint);
                        }
                    }
                }
                var inverseRow = inverse.Row(row);
                double diagonal = inverseRow[0];
                var current = weight.AsSpan((int)((long)row * n), n);
                var error = errors.AsSpan((row - first) * n, n);
                int within = row % blockSize, blockIndex = row / blockSize;
                for (int c = 0; c < n; c++)
                {
                    int code = parameters[c].Code(current[c], maxCode);
                    BitPacking.Set(codes.AsSpan((int)(((long)c * blocks + blockIndex) * bytesPerBlock), bytesPerBlock), within, bits, code);
                    error[c] = (float)((current[c] - parameters[c].Value(code)) / diagonal);
                }
                for (int later = row + 1; later < last; later++)
                    TensorPrimitives.MultiplyAdd(error, (float)-inverseRow[later - row], weight.AsSpan((int)((long)later * n), n), weight.AsSpan((int)((long)later * n), n));
            }
            Parallel.For(last, k, later =>
            {
                var target = weight.AsSpan((int)((long)later * n), n);
                for (int row = first; row < last; row++)
                    TensorPrimitives.MultiplyAdd(errors.AsSpan((row - first) * n, n), (float)-inverse[row, later], target, target);
            });
        }
        return new BlockQuantizedWeight(k, n, bits, blockSize, codes, scales, options.Symmetric ? null : BlockQuantizer.PackZeroPoints(zeroPoints, n, blocks, bits));
    }

    /// <summary>
    /// Act-order with static groups: block parameters from the float weight, rows permuted by decreasing diag(H),
    /// quantized and compensated in that order, codes written back to their natural places.
    /// </summary>
    private static void QuantizeInActOrder(float[] weight, int k, int n, GptqFactor factor, WeightOnlyOptions options, byte[] codes, float[] scales, byte[] zeroPoints)
    {
        int bits = options.Bits, blockSize = options.BlockSize, maxCode = (1 << bits) - 1;
        int blocks = (k + blockSize - 1) / blockSize, bytesPerBlock = blockSize * bits / 8;
        var parameters = new BlockParameters[(long)blocks * n];
        var column = new float[blockSize];
        for (int block = 0; block < blocks; block++)
        {
            int first = block * blockSize, rows = Math.Min(blockSize, k - first);
            for (int c = 0; c < n; c++)
            {
                for (int i = 0; i < rows; i++) column[i] = weight[(long)(first + i) * n + c];
                var p = BlockParameters.RoundToNearest(column.AsSpan(0, rows), bits, options.Symmetric);
                parameters[(long)block * n + c] = p;
                scales[(long)c * blocks + block] = p.Scale;
                zeroPoints[(long)c * blocks + block] = (byte)p.ZeroPoint;
                var packed = codes.AsSpan((int)(((long)c * blocks + block) * bytesPerBlock), bytesPerBlock);
                for (int i = rows; i < blockSize; i++) BitPacking.Set(packed, i, bits, p.ZeroPoint);
            }
        }

        var order = factor.Order;
        foreach (int input in factor.DeadInputs) weight.AsSpan((int)((long)input * n), n).Clear();
        var permutedWeight = new float[(long)k * n];
        for (int i = 0; i < k; i++) weight.AsSpan((int)((long)order[i] * n), n).CopyTo(permutedWeight.AsSpan((int)((long)i * n), n));
        var inverse = factor.Inverse;
        int batch = (LazyBatch + blockSize - 1) / blockSize * blockSize;
        var errors = new float[(long)Math.Min(batch, k) * n];
        for (int first = 0; first < k; first += batch)
        {
            int last = Math.Min(first + batch, k);
            for (int row = first; row < last; row++)
            {
                int original = order[row], block = original / blockSize, within = original % blockSize;
                var inverseRow = inverse.Row(row);
                double diagonal = inverseRow[0];
                var current = permutedWeight.AsSpan((int)((long)row * n), n);
                var error = errors.AsSpan((row - first) * n, n);
                for (int c = 0; c < n; c++)
                {
                    var p = parameters[(long)block * n + c];
                    int code = p.Code(current[c], maxCode);
                    BitPacking.Set(codes.AsSpan((int)(((long)c * blocks + block) * bytesPerBlock), bytesPerBlock), within, bits, code);
                    error[c] = (float)((current[c] - p.Value(code)) / diagonal);
                }
                for (int later = row + 1; later < last; later++)
                    TensorPrimitives.MultiplyAdd(error, (float)-inverseRow[later - row], permutedWeight.AsSpan((int)((long)later * n), n), permutedWeight.AsSpan((int)((long)later * n), n));
            }
            Parallel.For(last, k, later =>
            {
                var target = permutedWeight.AsSpan((int)((long)later * n), n);
                for (int row = first; row < last; row++)
                    TensorPrimitives.MultiplyAdd(errors.AsSpan((row - first) * n, n), (float)-inverse[row, later], target, target);
            });
        }
    }
}
