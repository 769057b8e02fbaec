

namespace MLNet.Quantization.Calibration;

/// <summary>
/// Smallest and largest value seen. With a moving average, each batch's min/max moves the running range by
/// <c>constant</c> (range = (1 - c)·range + c·batch), which forgets early outliers.
/// </summary>
internal sealed class MinMaxCollector : IRangeCollector
{
    private readonly float? _movingAverageConstant;
    private float _min, _max;

    /// <summary>Creates a collector; <paramref name="movingAverageConstant"/> null keeps the absolute min/max.</summary>
    public MinMaxCollector(float? movingAverageConstant = null)
    {
        if (movingAverageConstant is <= 0f or > 1f)
            throw new ArgumentOutOfRangeException(nameof(movingAverageConstant), movingAverageConstant, "The moving-average constant must be in (0, 1].");
        _movingAverageConstant = movingAverageConstant;
    }

    /// <inheritdoc />
    public bool HasData { get; private set; }

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        float batchMin = System.Numerics.Tensors.TensorPrimitives.Min(values), batchMax = System.Numerics.Tensors.TensorPrimitives.Max(values);
        if (!HasData)
        {
            (_min, _max, HasData) = (batchMin, batchMax, true);
        }
        else if (_movingAverageConstant is float c)
        {
            _min += c * (batchMin - _min);
            _max += c * (batchMax - _max);
        }
        else
        {
            _min = MathF.Min(_min, batchMin);
            _max = MathF.Max(_max, batchMax);
        }
    }

    /// <inheritdoc />
    public TensorRange ComputeRange() =>
        HasData ? new TensorRange(_min, _max) : throw new InvalidOperationException("No values were observed.");
}
