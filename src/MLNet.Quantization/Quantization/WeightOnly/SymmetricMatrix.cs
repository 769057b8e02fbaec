using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// A symmetric K×K matrix of doubles kept as its upper triangle, row by row: row i holds columns i … K−1
/// contiguously, so K(K+1)/2 values instead of K². GPTQ's Hessian lives here, and its factorisation overwrites it in
/// place, so one layer's statistics never need more than this one buffer.
/// </summary>
internal sealed class SymmetricMatrix
{
    private readonly double[] _values;

    /// <summary>A zero matrix of the given size.</summary>
    /// <param name="size">K, the number of rows and columns.</param>
    public SymmetricMatrix(int size)
    {
        long count = (long)size * (size + 1) / 2;
        if (count > Array.MaxLength)
            throw new NotSupportedException($"A {size}×{size} GPTQ Hessian holds {count:N0} values, more than one .NET array can; use Rtn or Hqq for weights with this many input features.");
        Size = size;
        _values = new double[count];
    }

    /// <summary>K, the number of rows and columns.</summary>
    public int Size { get; }

    /// <summary>Row <paramref name="row"/> from its diagonal on: element m is column <paramref name="row"/> + m.</summary>
    public Span<double> Row(int row) => _values.AsSpan((int)Start(row), Size - row);

    /// <summary>The element at (<paramref name="row"/>, <paramref name="column"/>), either order.</summary>
    public ref double this[int row, int column] =>
        ref row <= column ? ref _values[Start(row) + column - row] : ref _values[Start(column) + row - column];

    /// <summary>The matrix with rows and columns visited in <paramref name="order"/>: result(i, j) = this(order[i], order[j]).</summary>
    public SymmetricMatrix Permuted(IReadOnlyList<int> order)
    {
        var result = new SymmetricMatrix(Size);
        for (int i = 0; i < Size; i++)
        {
            var row = result.Row(i);
            for (int j = i; j < Size; j++) row[j - i] = this[order[i], order[j]];
        }
        return result;
    }

    /// <summary>Adds Σ xᵀx over the rows x of <paramref name="rows"/> (each <see cref="Size"/> values).</summary>
    /// <param name="rows">Row-major values, a multiple of <see cref="Size"/> long.</param>
    public void AddOuterProducts(ReadOnlySpan<float> rows)
    {
        int k = Size, count = rows.Length / k;
        var block = new double[(long)count * k];
        for (int i = 0; i < block.Length; i++) block[i] = rows[i];
        Parallel.For(0, k, i =>
        {
            var target = Row(i);
            for (int r = 0; r < count; r++)
            {
                double xi = block[(long)r * k + i];
                if (xi != 0) TensorPrimitives.MultiplyAdd<double>(block.AsSpan((int)((long)r * k + i), k - i), xi, target, target);
            }
        });
    }

    /// <summary>A matrix from its full row-major K×K values (only the upper triangle is read).</summary>
    /// <param name="full">K² values.</param>
    /// <param name="size">K.</param>
    public static SymmetricMatrix FromFull(double[] full, int size)
    {
        var result = new SymmetricMatrix(size);
        for (int i = 0; i < size; i++) full.AsSpan(i * size + i, size - i).CopyTo(result.Row(i));
        return result;
    }

    /// <summary>Where row <paramref name="row"/> starts: Σ over earlier rows r of (K − r).</summary>
    private long Start(int row) => (long)row * Size - (long)row * (row - 1) / 2;
}
