using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// The two K³ steps of GPTQ's inverse factor, in place on a packed <see cref="SymmetricMatrix"/> and blocked so that
/// each pass over the matrix does <see cref="Block"/> columns' (or rows') worth of work: without blocking every column
/// streams the whole matrix through memory (1.8 TB for K = 11008), and the factorisation is memory-bound.
/// </summary>
internal static class TriangularFactorization
{
    /// <summary>Columns (rows) handled per pass over the matrix.</summary>
    private const int Block = 64;

    /// <summary>Columns per parallel task in the inversion.</summary>
    private const int Chunk = 512;

    /// <summary>
    /// Replaces a positive definite H by the upper triangular R with H = R·Rᵀ (Cholesky from the last row up). Each block
    /// of columns first takes away what the finished columns to its right contribute, then is factored on its own.
    /// </summary>
    /// <exception cref="InvalidOperationException">H is not positive definite.</exception>
    public static void FactorFromBottom(SymmetricMatrix h)
    {
        int k = h.Size;
        for (int end = k; end > 0; end -= Block)
        {
            int start = Math.Max(0, end - Block);
            if (end < k)
            {
                Parallel.For(0, end, j =>
                {
                    var rowJ = h.Row(j);
                    var tailJ = rowJ[(end - j)..];
                    for (int c = Math.Max(j, start); c < end; c++) rowJ[c - j] -= TensorPrimitives.Dot<double>(tailJ, h.Row(c)[(end - c)..]);
                });
            }
            for (int c = end - 1; c >= start; c--)
            {
                var rowC = h.Row(c);
                var inBlock = rowC.Slice(1, end - c - 1);
                double pivot = rowC[0] - TensorPrimitives.Dot<double>(inBlock, inBlock);
                if (!(pivot > 0)) throw new InvalidOperationException("The GPTQ Hessian is not positive definite even after damping; raise GptqDamping (e.g. 0.1) or give more calibration data.");
                double diagonal = Math.Sqrt(pivot);
                rowC[0] = diagonal;
                int column = c, width = end - c - 1;
                Parallel.For(0, column, j =>
                {
                    var rowJ = h.Row(j);
                    rowJ[column - j] = (rowJ[column - j] - TensorPrimitives.Dot<double>(rowJ.Slice(column + 1 - j, width), h.Row(column).Slice(1, width))) / diagonal;
                });
            }
        }
    }

    /// <summary>
    /// Replaces an upper triangular R by U = R⁻¹ (also upper triangular), rows from the bottom up: row i of U is
    /// (eᵢ − Σₘ₍&gt;ᵢ₎ rᵢₘ·Uₘ) / rᵢᵢ. A block of rows first gathers what the finished rows below it contribute, reading
    /// each of them once, then is solved on its own.
    /// </summary>
    public static void InvertUpper(SymmetricMatrix h)
    {
        int k = h.Size;
        var sums = new double[(long)Math.Min(Block, k) * k];
        for (int end = k; end > 0; end -= Block)
        {
            int start = Math.Max(0, end - Block);
            Array.Clear(sums);
            if (end < k)
            {
                int chunks = (k - end + Chunk - 1) / Chunk;
                Parallel.For(0, chunks, chunk =>
                {
                    int first = end + chunk * Chunk, last = Math.Min(first + Chunk, k);
                    for (int m = end; m < last; m++)
                    {
                        int from = Math.Max(first, m);
                        var finished = h.Row(m).Slice(from - m, last - from);
                        for (int i = start; i < end; i++)
                        {
                            double factor = h.Row(i)[m - i];
                            if (factor == 0) continue;
                            var target = sums.AsSpan((i - start) * k + from, last - from);
                            TensorPrimitives.MultiplyAdd<double>(finished, factor, target, target);
                        }
                    }
                });
            }
            for (int i = end - 1; i >= start; i--)
            {
                var sum = sums.AsSpan((i - start) * k, k);
                var rowR = h.Row(i);
                for (int m = i + 1; m < end; m++)
                {
                    double factor = rowR[m - i];
                    if (factor != 0) TensorPrimitives.MultiplyAdd<double>(h.Row(m), factor, sum[m..], sum[m..]);
                }
                double inverseDiagonal = 1 / rowR[0];
                var row = sum[i..];
                TensorPrimitives.Multiply<double>(row[1..], -inverseDiagonal, row[1..]);
                row[0] = inverseDiagonal;
                row.CopyTo(rowR);
            }
        }
    }
}
