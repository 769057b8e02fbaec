using System.Numerics.Tensors;

namespace Sentiment.Common;

/// <summary>Small dense matrix products on row-major spans, vectorized row by row.</summary>
public static class MatrixOps
{
    /// <summary>C[m,n] (+)= A[m,k] · B[k,n].</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        if (!accumulate) c[..(m * n)].Clear();
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * n, n);
            for (int j = 0; j < k; j++)
            {
                float value = a[i * k + j];
                if (value != 0f) TensorPrimitives.MultiplyAdd(b.Slice(j * n, n), value, row, row);
            }
        }
    }

    /// <summary>C[k,n] (+)= Aᵀ · B for A[m,k], B[m,n] (weight gradients).</summary>
    public static void MultiplyTransposedA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        for (int i = 0; i < m; i++)
        {
            var bRow = b.Slice(i * n, n);
            for (int j = 0; j < k; j++)
            {
                float value = a[i * k + j];
                if (value != 0f) TensorPrimitives.MultiplyAdd(bRow, value, c.Slice(j * n, n), c.Slice(j * n, n));
            }
        }
    }

    /// <summary>C[m,k] (+)= A[m,n] · Bᵀ for B[k,n] (input gradients).</summary>
    public static void MultiplyTransposedB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false)
    {
        for (int i = 0; i < m; i++)
        {
            var aRow = a.Slice(i * n, n);
            for (int j = 0; j < k; j++)
            {
                float dot = TensorPrimitives.Dot(aRow, b.Slice(j * n, n));
                c[i * k + j] = accumulate ? c[i * k + j] + dot : dot;
            }
        }
    }

    /// <summary>Adds <paramref name="bias"/> to each of <paramref name="rows"/> rows.</summary>
    public static void AddBias(Span<float> values, ReadOnlySpan<float> bias, int rows)
    {
        for (int i = 0; i < rows; i++) TensorPrimitives.Add(values.Slice(i * bias.Length, bias.Length), bias, values.Slice(i * bias.Length, bias.Length));
    }

    /// <summary>Adds each row of <paramref name="values"/> into <paramref name="sum"/> (bias gradients).</summary>
    public static void SumRows(ReadOnlySpan<float> values, Span<float> sum, int rows)
    {
        for (int i = 0; i < rows; i++) TensorPrimitives.Add(sum, values.Slice(i * sum.Length, sum.Length), sum);
    }
}
