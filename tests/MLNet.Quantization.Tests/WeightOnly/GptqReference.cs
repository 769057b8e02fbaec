using MLNet.Quantization.WeightOnly;

namespace MLNet.Quantization.Tests.WeightOnly;

/// <summary>
/// GPTQ written out from the paper's definition with full matrices and no batching, to check the library's packed,
/// in-place, lazily batched solver: H⁻¹ by Gauss–Jordan elimination, its upper Cholesky factor U (H⁻¹ = UᵀU), then
/// row by row: round, divide the error by U[i,i], subtract error·U[i,j] from every later row j.
/// </summary>
internal static class GptqReference
{
    /// <summary>The codes, [K, N] row-major, GPTQ gives a [K, N] weight with Hessian <paramref name="hessian"/> (K×K).</summary>
    public static int[] Quantize(float[] weight, int k, int n, double[] hessian, WeightOnlyOptions options)
    {
        var w = weight.Select(v => (double)v).ToArray();
        var u = InverseFactor(hessian, k, options.GptqDamping);
        var codes = new int[k * n];
        var parameters = new BlockParameters[n];
        int maxCode = (1 << options.Bits) - 1;
        for (int row = 0; row < k; row++)
        {
            if (row % options.BlockSize == 0)
            {
                int rows = Math.Min(options.BlockSize, k - row);
                for (int c = 0; c < n; c++)
                    parameters[c] = BlockParameters.RoundToNearest(Enumerable.Range(row, rows).Select(r => (float)w[r * n + c]).ToArray(), options.Bits, options.Symmetric);
            }
            for (int c = 0; c < n; c++)
            {
                int code = parameters[c].Code((float)w[row * n + c], maxCode);
                codes[row * n + c] = code;
                double error = (w[row * n + c] - parameters[c].Value(code)) / u[row * k + row];
                for (int later = row + 1; later < k; later++) w[later * n + c] -= error * u[row * k + later];
            }
        }
        return codes;
    }

    /// <summary>U (K×K, upper triangular) with UᵀU = (H + λ·mean(diag H)·I)⁻¹, for a Hessian whose diagonal has no zeros.</summary>
    public static double[] InverseFactor(double[] hessian, int k, double damping)
    {
        var h = (double[])hessian.Clone();
        double mean = Enumerable.Range(0, k).Average(i => h[i * k + i]);
        for (int i = 0; i < k; i++) h[i * k + i] += damping * mean;
        return UpperCholesky(Inverse(h, k), k);
    }

    private static double[] Inverse(double[] matrix, int k)
    {
        var a = (double[])matrix.Clone();
        var inverse = new double[k * k];
        for (int i = 0; i < k; i++) inverse[i * k + i] = 1;
        for (int column = 0; column < k; column++)
        {
            double pivot = a[column * k + column];
            for (int j = 0; j < k; j++) { a[column * k + j] /= pivot; inverse[column * k + j] /= pivot; }
            for (int row = 0; row < k; row++)
            {
                if (row == column) continue;
                double factor = a[row * k + column];
                for (int j = 0; j < k; j++) { a[row * k + j] -= factor * a[column * k + j]; inverse[row * k + j] -= factor * inverse[column * k + j]; }
            }
        }
        return inverse;
    }

    /// <summary>U upper triangular with UᵀU = <paramref name="matrix"/> (the usual Cholesky factor, transposed).</summary>
    private static double[] UpperCholesky(double[] matrix, int k)
    {
        var u = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            double sum = matrix[i * k + i];
            for (int m = 0; m < i; m++) sum -= u[m * k + i] * u[m * k + i];
            u[i * k + i] = Math.Sqrt(sum);
            for (int j = i + 1; j < k; j++)
            {
                double s = matrix[i * k + j];
                for (int m = 0; m < i; m++) s -= u[m * k + i] * u[m * k + j];
                u[i * k + j] = s / u[i * k + i];
            }
        }
        return u;
    }
}
