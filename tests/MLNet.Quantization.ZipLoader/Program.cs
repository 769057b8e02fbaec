using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: ZipLoader MODEL.zip ROWS.idv COLUMN — loads the model with stock ML.NET, runs it over the rows and prints
// the float column (scalar or vector) one row per line. The tests run it to prove a quantized zip needs nothing but ML.NET.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: ZipLoader MODEL.zip ROWS.idv COLUMN");
    return 2;
}
var ml = new MLContext(seed: 1);
var model = ml.Model.Load(args[0], out _);
var scored = model.Transform(ml.Data.LoadFromBinary(args[1]));
var column = scored.Schema[args[2]];
using var cursor = scored.GetRowCursor(new[] { column });
if (column.Type is VectorDataViewType)
{
    var getter = cursor.GetGetter<VBuffer<float>>(column);
    VBuffer<float> buffer = default;
    while (cursor.MoveNext())
    {
        getter(ref buffer);
        Console.WriteLine(string.Join(" ", buffer.DenseValues().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }
}
else
{
    var getter = cursor.GetGetter<float>(column);
    float value = 0;
    while (cursor.MoveNext())
    {
        getter(ref value);
        Console.WriteLine(value.ToString("R", CultureInfo.InvariantCulture));
    }
}
return 0;
