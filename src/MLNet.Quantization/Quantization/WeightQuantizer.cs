namespace MLNet.Quantization;

/// <summary>Quantizes float weight tensors per tensor or per channel.</summary>
internal static class WeightQuantizer
{
    /// <summary>
    /// Quantizes <paramref name="values"/> (row-major, shape <paramref name="dims"/>) to <paramref name="type"/>.
    /// With an <paramref name="axis"/>, each index along that axis gets its own scale and zero point.
    /// </summary>
    /// <param name="values">The float weights.</param>
    /// <param name="dims">Their shape.</param>
    /// <param name="type">The integer type.</param>
    /// <param name="symmetric">Symmetric ranges (zero point at the middle).</param>
    /// <param name="reduceRange">7-bit ranges.</param>
    /// <param name="axis">The channel axis, or null for one scale for the whole tensor.</param>
    public static QuantizedTensor Quantize(ReadOnlySpan<float> values, long[] dims, QuantizedType type, bool symmetric, bool reduceRange, int? axis)
    {
        long count = 1;
        foreach (var d in dims) count *= d;
        if (count != values.Length)
            throw new ArgumentException($"Shape [{string.Join(",", dims)}] needs {count} values but {values.Length} were given.", nameof(values));
        if (axis is < 0 || axis >= dims.Length)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis must be within the tensor's rank {dims.Length}.");
        foreach (var v in values)
        {
            if (!float.IsFinite(v))
                throw new ArgumentException("The weights hold NaN or infinity; such a model cannot be quantized. Fix the model's weights first.", nameof(values));
        }

        int channels = axis is int a ? (int)dims[a] : 1;
        if (count == 0 || channels == 0)
            return new QuantizedTensor(Array.Empty<byte>(), (long[])dims.Clone(), type, new[] { new QuantParams(1f, 0) }, null);
        long inner = 1;
        if (axis is int ax) for (int i = ax + 1; i < dims.Length; i++) inner *= dims[i];
        else inner = count;

        long outer = count / (channels * inner);
        var mins = new float[channels];
        var maxs = new float[channels];
        for (long o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                var block = values.Slice((int)((o * channels + c) * inner), (int)inner);
                float lo = mins[c], hi = maxs[c];
                foreach (var v in block)
                {
                    if (v < lo) lo = v;
                    if (v > hi) hi = v;
                }
                mins[c] = lo;
                maxs[c] = hi;
            }
        }

        var (qmin, qmax) = QuantMath.IntegerRange(type, symmetric, reduceRange);
        var parameters = new QuantParams[channels];
        for (int c = 0; c < channels; c++) parameters[c] = QuantMath.Compute(mins[c], maxs[c], qmin, qmax, symmetric);

        var data = new byte[values.Length];
        for (long o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (int)((o * channels + c) * inner);
                var block = values.Slice(start, (int)inner);
                var p = parameters[c];
                for (int k = 0; k < block.Length; k++)
                    data[start + k] = unchecked((byte)QuantMath.Quantize(block[k], p, qmin, qmax));
            }
        }
        return new QuantizedTensor(data, (long[])dims.Clone(), type, parameters, axis);
    }

    /// <summary>Transposes the last two dimensions of a row-major float tensor (batched matrix transpose).</summary>
    /// <param name="values">The tensor.</param>
    /// <param name="dims">Its shape (rank ≥ 2).</param>
    /// <param name="transposedDims">The shape after transposing.</param>
    public static float[] TransposeLastTwo(ReadOnlySpan<float> values, long[] dims, out long[] transposedDims)
    {
        int rank = dims.Length;
        int rows = (int)dims[rank - 2], cols = (int)dims[rank - 1];
        int batches = values.Length / Math.Max(1, rows * cols);
        var result = new float[values.Length];
        for (int b = 0; b < batches; b++)
        {
            int offset = b * rows * cols;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    result[offset + c * rows + r] = values[offset + r * cols + c];
        }
        transposedDims = (long[])dims.Clone();
        transposedDims[rank - 2] = cols;
        transposedDims[rank - 1] = rows;
        return result;
    }
}
