using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization;

/// <summary>
/// Calibration samples read from an <see cref="IDataView"/>, one row per model run, with columns named as the
/// model's inputs (the same mapping <c>ApplyOnnxModel</c> uses). Rows are read lazily by a cursor.
/// </summary>
internal static class DataViewCalibration
{
    /// <summary>
    /// Creates calibration data over <paramref name="data"/> for the model <paramref name="model"/>;
    /// <paramref name="shapes"/> (as given to ApplyOnnxModel) overrides input shapes the model leaves open.
    /// </summary>
    public static CalibrationData Create(IDataView data, ModelProto model, IDictionary<string, int[]>? shapes = null)
    {
        var inputs = model.Graph.Input.Where(i => model.Graph.Initializer.All(t => t.Name != i.Name)).ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var input in inputs.Values) CheckColumn(data.Schema, input);
        return CalibrationData.FromReader("the IDataView's rows", names => Read(data, names.Select(n => inputs[n]).ToList(), shapes));
    }

    private static IEnumerable<IReadOnlyList<NamedOnnxValue>> Read(IDataView data, List<ValueInfoProto> inputs, IDictionary<string, int[]>? shapes)
    {
        var columns = inputs.Select(i => data.Schema[i.Name]).ToList();
        using var cursor = data.GetRowCursor(columns);
        var readers = inputs.Select((input, k) => CreateReader(cursor, columns[k], input, shapes?.TryGetValue(input.Name, out var shape) == true ? shape : null)).ToList();
        while (cursor.MoveNext()) yield return readers.Select(read => read()).ToList();
    }

    private static void CheckColumn(DataViewSchema schema, ValueInfoProto input)
    {
        var column = schema.GetColumnOrNull(input.Name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{input.Name}' in the calibration data (the model's input '{input.Name}').");
        var itemType = column.Type is VectorDataViewType vector ? vector.ItemType : column.Type;
        var expected = ExpectedType((DataType)input.Type.TensorType.ElemType);
        if (itemType.RawType != expected)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Calibration column '{input.Name}' holds {itemType}; the model input needs {expected.Name} values.");
    }

    private static Type ExpectedType(DataType type) => type switch
    {
        DataType.Float => typeof(float),
        DataType.Int64 => typeof(long),
        DataType.Int32 => typeof(int),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, $"Calibration from an IDataView supports float, int64 and int32 model inputs, not {type}."),
    };

    private static Func<NamedOnnxValue> CreateReader(DataViewRowCursor cursor, DataViewSchema.Column column, ValueInfoProto input, int[]? shape) =>
        (DataType)input.Type.TensorType.ElemType switch
        {
            DataType.Float => CreateReader<float>(cursor, column, input, shape),
            DataType.Int64 => CreateReader<long>(cursor, column, input, shape),
            _ => CreateReader<int>(cursor, column, input, shape),
        };

    private static Func<NamedOnnxValue> CreateReader<T>(DataViewRowCursor cursor, DataViewSchema.Column column, ValueInfoProto input, int[]? shape)
    {
        if (column.Type is VectorDataViewType)
        {
            var getter = cursor.GetGetter<VBuffer<T>>(column);
            VBuffer<T> buffer = default;
            return () =>
            {
                getter(ref buffer);
                var values = buffer.DenseValues().ToArray();
                return NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<T>(values, Shape(input, shape, values.Length)));
            };
        }
        var scalarGetter = cursor.GetGetter<T>(column);
        return () =>
        {
            T value = default!;
            scalarGetter(ref value);
            return NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<T>(new[] { value }, Shape(input, shape, 1)));
        };
    }

    /// <summary>
    /// The model input's shape for one row (or the given <paramref name="shape"/>): symbolic dimensions are 1, except
    /// one that absorbs the rest of the values.
    /// </summary>
    private static int[] Shape(ValueInfoProto input, int[]? shape, int count)
    {
        var dims = shape?.Select(d => d > 0 ? d : -1).ToArray()
            ?? input.Type.TensorType.Shape?.Dim.Select(d => d.HasDimValue && d.DimValue > 0 ? (int)d.DimValue : -1).ToArray()
            ?? new[] { count };
        int known = dims.Where(d => d > 0).Aggregate(1, (a, b) => a * b);
        int unknown = dims.Count(d => d < 0);
        int firstUnknown = Array.IndexOf(dims, -1);
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] > 0) continue;
            bool absorbs = unknown > 1 ? i != firstUnknown && i == Array.LastIndexOf(dims, -1) : true;
            dims[i] = absorbs && known > 0 ? Math.Max(1, count / known) : 1;
        }
        if (dims.Aggregate(1, (a, b) => a * b) != count)
            throw new InvalidOperationException($"A calibration row of column '{input.Name}' has {count} values, which does not fit the model input's shape [{string.Join(",", input.Type.TensorType.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString() : d.DimParam) ?? Array.Empty<string>())}].");
        return dims;
    }
}
