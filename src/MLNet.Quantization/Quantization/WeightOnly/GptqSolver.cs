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
    /// by its inverse factor (so the solver needs no second K×K buffer).
    /// </summary>
    public static BlockQuantizedWeight Quantize(float[] weight, int k, int n, SymmetricMatrix hessian, WeightOnlyOptions options)
    {
        int bits = options.Bits, blockSize = options.BlockSize, maxCode = (1 << bits) - 1;
        int blocks = (k + blockSize - 1) / blockSize, bytesPerBlock = blockSize * bits / 8;
        var codes = new byte[(long)n * blocks * bytesPerBlock];
        var scales = new float[(long)n * blocks];
        var zeroPoints = new byte[(long)n * blocks];
        if (options.GptqActOrder)
        {
            QuantizeInActOrder(weight, k, n, hessian, options, codes, scales, zeroPoints);
            return new BlockQuantizedWeight(k, n, bits, blockSize, codes, scales, options.Symmetric ? null : BlockQuantizer.PackZeroPoints(zeroPoints, n, blocks, bits));
        }
        var inverse = InverseFactor(hessian, weight, k, n, options.GptqDamping);
        var parameters = new BlockParameters[n];
        var column = new float[blockSize];
        int batch = (LazyBatch + blockSize - 1) / blockSize * blockSize;
        for (int first = 0; first < k; first += batch)
        {
            int last = Math.Min(first + batch, k);
            var errors = new float[(last - first) * n];
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
    private static void QuantizeInActOrder(float[] weight, int k, int n, SymmetricMatrix hessian, WeightOnlyOptions options, byte[] codes, float[] scales, byte[] zeroPoints)
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

        var order = Enumerable.Range(0, k).OrderByDescending(i => hessian[i, i]).ThenBy(i => i).ToArray();
        var permutedWeight = new float[(long)k * n];
        for (int i = 0; i < k; i++) weight.AsSpan((int)((long)order[i] * n), n).CopyTo(permutedWeight.AsSpan((int)((long)i * n), n));
        var inverse = InverseFactor(hessian.Permuted(order), permutedWeight, k, n, options.GptqDamping);
        int batch = (LazyBatch + blockSize - 1) / blockSize * blockSize;
        for (int first = 0; first < k; first += batch)
        {
            int last = Math.Min(first + batch, k);
            var errors = new float[(last - first) * n];
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

    /// <summary>
    /// The upper-triangular U with Uᵀ·U = (H + λ·mean(diag H)·I)⁻¹, as GPTQ uses it, computed in place of H. Inputs that
    /// never fire (zero diagonal) get a unit diagonal and their weight rows are zeroed (they never contribute). H is
    /// factored as R·Rᵀ with R upper triangular (Cholesky from the last row up), each R entry replacing the H entry it
    /// is the last to need; then R is inverted row by row from the bottom, each row of U replacing R's row once the
    /// rows below it are done.
    /// </summary>
    private static SymmetricMatrix InverseFactor(SymmetricMatrix h, float[] weight, int k, int n, double damping)
    {
        double mean = 0;
        for (int i = 0; i < k; i++)
        {
            if (h[i, i] == 0)
            {
                h[i, i] = 1;
                weight.AsSpan((int)((long)i * n), n).Clear();
            }
            mean += h[i, i];
        }
        mean /= k;
        for (int i = 0; i < k; i++) h[i, i] += damping * mean;

        for (int i = k - 1; i >= 0; i--)
        {
            var rowI = h.Row(i)[1..];
            double pivot = h[i, i] - TensorPrimitives.Dot<double>(rowI, rowI);
            if (!(pivot > 0)) throw new InvalidOperationException("The GPTQ Hessian is not positive definite even after damping; raise GptqDamping (e.g. 0.1) or give more calibration data.");
            double diagonal = Math.Sqrt(pivot);
            h[i, i] = diagonal;
            int column = i;
            Parallel.For(0, i, j =>
            {
                var rowJ = h.Row(j);
                var pivotRow = h.Row(column)[1..];
                rowJ[column - j] = (rowJ[column - j] - TensorPrimitives.Dot<double>(rowJ[(column - j + 1)..], pivotRow)) / diagonal;
            });
        }

        var target = new double[k];
        for (int i = k - 1; i >= 0; i--)
        {
            var rowR = h.Row(i);
            var row = target.AsSpan(0, k - i);
            row.Clear();
            for (int m = i + 1; m < k; m++)
            {
                double factor = rowR[m - i];
                if (factor != 0) TensorPrimitives.MultiplyAdd<double>(h.Row(m), factor, row[(m - i)..], row[(m - i)..]);
            }
            double inverseDiagonal = 1 / rowR[0];
            TensorPrimitives.Multiply<double>(row[1..], -inverseDiagonal, row[1..]);
            row[0] = inverseDiagonal;
            row.CopyTo(rowR);
        }
        return h;
    }
}
