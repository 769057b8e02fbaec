using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Quantization.Cli;

/// <summary>Calibration rows for an ML.NET model zip: an ML.NET binary <c>.idv</c>, or a CSV with the pipeline's input columns.</summary>
internal static class ZipCalibration
{
    /// <summary>
    /// Loads <paramref name="path"/> as rows of the pipeline input <paramref name="inputSchema"/>: <c>.idv</c> as
    /// saved by <c>mlContext.Data.SaveAsBinary</c>; <c>.csv</c> with a header, the schema's columns in order (a
    /// vector column spans as many fields as it has items).
    /// </summary>
    public static IDataView Load(MLContext ml, string path, DataViewSchema inputSchema)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Calibration file '{path}' was not found; for a model zip give an ML.NET .idv file or a .csv with the pipeline's input columns.", path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        IDataView data = extension switch
        {
            ".idv" => ml.Data.LoadFromBinary(path),
            ".csv" => ml.Data.LoadFromTextFile(path, Columns(inputSchema, path), separatorChar: ',', hasHeader: true),
            _ => throw new InvalidDataException($"Calibration file '{path}' is neither .idv nor .csv; a model zip calibrates on rows with the pipeline's input columns."),
        };
        if (extension == ".csv") CheckHeader(path, inputSchema);
        foreach (var column in inputSchema)
        {
            if (column.IsHidden) continue;
            var found = data.Schema.GetColumnOrNull(column.Name);
            if (found is null)
                throw new InvalidDataException($"Calibration file '{path}' has no column '{column.Name}', which the pipeline's input has ({column.Type}). Columns found: {string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        }
        return data;
    }

    private static TextLoader.Column[] Columns(DataViewSchema schema, string path)
    {
        var columns = new List<TextLoader.Column>();
        int index = 0;
        foreach (var column in schema.Where(c => !c.IsHidden))
        {
            var itemType = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
            int size = column.Type is VectorDataViewType vector ? vector.Size : 1;
            if (size == 0) throw new InvalidDataException($"Column '{column.Name}' is a vector of unknown size, which a CSV cannot describe; give the calibration rows as an .idv file ('{path}').");
            var kind = KindOf(itemType) ?? throw new InvalidDataException($"Column '{column.Name}' holds {itemType}, which cannot be read from a CSV; give the calibration rows as an .idv file ('{path}').");
            columns.Add(size == 1 && column.Type is not VectorDataViewType
                ? new TextLoader.Column(column.Name, kind, index)
                : new TextLoader.Column(column.Name, kind, index, index + size - 1));
            index += size;
        }
        return columns.ToArray();
    }

    private static void CheckHeader(string path, DataViewSchema schema)
    {
        var header = File.ReadLines(path).FirstOrDefault() ?? throw new InvalidDataException($"Calibration file '{path}' is empty.");
        int fields = header.Split(',').Length;
        int expected = schema.Where(c => !c.IsHidden).Sum(c => c.Type is VectorDataViewType v ? v.Size : 1);
        if (fields != expected)
        {
            var names = string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({(c.Type is VectorDataViewType v ? $"{v.Size} fields" : "1 field")})"));
            throw new InvalidDataException($"Calibration file '{path}' has {fields} fields per row but the pipeline's input needs {expected}: {names}, in that order. Columns are missing or extra.");
        }
    }

    private static DataKind? KindOf(DataViewType type) => type.RawType switch
    {
        var t when t == typeof(float) => DataKind.Single,
        var t when t == typeof(double) => DataKind.Double,
        var t when t == typeof(int) => DataKind.Int32,
        var t when t == typeof(long) => DataKind.Int64,
        var t when t == typeof(bool) => DataKind.Boolean,
        var t when t == typeof(ReadOnlyMemory<char>) => DataKind.String,
        var t when t == typeof(uint) => DataKind.UInt32,
        _ => null,
    };
}
