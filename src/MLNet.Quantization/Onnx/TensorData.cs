using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Onnx;

/// <summary>Typed views of tensor data and factories for new tensors.</summary>
internal static class TensorData
{
    /// <summary>The number of elements a tensor's dims describe (1 for a scalar).</summary>
    /// <param name="tensor">The tensor.</param>
    public static long ElementCount(TensorProto tensor)
    {
        long count = 1;
        foreach (var d in tensor.Dims) count *= d;
        return count;
    }

    /// <summary>The tensor's data as little-endian bytes in raw_data layout, reading external data if needed.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="baseDirectory">The folder external locations are relative to; null when the model came from memory.</param>
    public static ReadOnlyMemory<byte> ReadBytes(TensorProto tensor, string? baseDirectory)
    {
        if (ExternalDataReference.IsExternal(tensor))
        {
            var reference = ExternalDataReference.Parse(tensor);
            return TensorSpill.Find(reference.Location) is { } spill ? spill.Read(reference, tensor.Name) : ReadExternal<byte>(tensor, baseDirectory);
        }
        if (!tensor.RawData.IsEmpty) return tensor.RawData.Memory;
        return TypedFieldsToBytes(tensor);
    }

    /// <summary>
    /// The values of a float32 tensor without copying when they are stored in raw_data (a copy otherwise).
    /// </summary>
    /// <param name="tensor">A float tensor.</param>
    /// <param name="baseDirectory">The folder external locations are relative to.</param>
    public static ReadOnlyMemory<byte> ReadFloatBytes(TensorProto tensor, string? baseDirectory = null)
    {
        if ((DataType)tensor.DataType != DataType.Float)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' has element type {ElementType.Name(tensor.DataType)}, not float.");
        var bytes = ReadBytes(tensor, baseDirectory);
        CheckLength(tensor, bytes.Length, 4);
        return bytes;
    }

    /// <summary>
    /// Columns [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of a 2-D float32 tensor as a
    /// new row-major [rows, count] array; from an external data file only those columns are read.
    /// </summary>
    /// <param name="tensor">A 2-D float tensor.</param>
    /// <param name="baseDirectory">The folder external locations are relative to.</param>
    /// <param name="first">The first column.</param>
    /// <param name="count">How many columns.</param>
    public static float[] ReadFloatColumns(TensorProto tensor, string? baseDirectory, int first, int count) =>
        ReadFloatBlock(tensor, baseDirectory, 0, RowCount(tensor), first, count);

    /// <summary>
    /// Rows [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of a 2-D float32 tensor as a
    /// new row-major [count, columns] array; from an external data file only that range is read.
    /// </summary>
    /// <param name="tensor">A 2-D float tensor.</param>
    /// <param name="baseDirectory">The folder external locations are relative to.</param>
    /// <param name="first">The first row.</param>
    /// <param name="count">How many rows.</param>
    public static float[] ReadFloatRows(TensorProto tensor, string? baseDirectory, int first, int count) =>
        ReadFloatBlock(tensor, baseDirectory, first, count, 0, tensor.Dims.Count == 2 ? (int)Math.Min(tensor.Dims[1], int.MaxValue) : 0);

    private static int RowCount(TensorProto tensor) => tensor.Dims.Count == 2 ? (int)Math.Min(tensor.Dims[0], int.MaxValue) : 0;

    /// <summary>
    /// A rectangle of a 2-D float32 tensor as a new row-major array. From a data file each of its rows is one read, and
    /// a rectangle of whole rows is a single read.
    /// </summary>
    private static float[] ReadFloatBlock(TensorProto tensor, string? baseDirectory, int firstRow, int rowCount, int firstColumn, int columnCount)
    {
        if ((DataType)tensor.DataType != DataType.Float || tensor.Dims.Count != 2)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' is not a 2-D float tensor.");
        long rows = tensor.Dims[0], columns = tensor.Dims[1];
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > rows || firstColumn < 0 || columnCount < 0 || firstColumn + columnCount > columns)
            throw new ArgumentOutOfRangeException(nameof(columnCount), $"Rows {firstRow}..{firstRow + rowCount}, columns {firstColumn}..{firstColumn + columnCount} are outside tensor '{tensor.Name}' [{rows},{columns}].");
        if ((long)rowCount * columnCount * 4 > int.MaxValue)
            throw new NotSupportedException($"A {rowCount}×{columnCount} part of tensor '{tensor.Name}' would exceed 2 GiB.");
        GarbageBound.Check();
        var block = new float[(long)rowCount * columnCount];
        if (!IsInDataFile(tensor))
        {
            var all = MemoryMarshal.Cast<byte, float>(ReadFloatBytes(tensor, baseDirectory).Span);
            for (int r = 0; r < rowCount; r++) all.Slice((int)((firstRow + r) * columns + firstColumn), columnCount).CopyTo(block.AsSpan(r * columnCount, columnCount));
            return block;
        }
        var reference = ExternalDataReference.Parse(tensor);
        if (reference.Length is { } length && length != rows * columns * 4)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' has {length} bytes of external data but its shape [{rows},{columns}] needs {rows * columns * 4}. The model is corrupt or truncated.");
        using var stream = OpenExternal(tensor, reference, baseDirectory, rows * columns * 4);
        int run = columnCount == columns ? block.Length : columnCount;
        var bytes = MemoryMarshal.AsBytes(block.AsSpan());
        for (int start = 0, r = 0; start < block.Length; start += run, r++)
        {
            stream.Position = reference.Offset + ((firstRow + r) * columns + firstColumn) * 4;
            stream.ReadExactly(bytes.Slice(start * 4, run * 4));
        }
        return block;
    }

    /// <summary>Whether the tensor's data is in an external data file (not inline, and not a spill of this run).</summary>
    private static bool IsInDataFile(TensorProto tensor) =>
        ExternalDataReference.IsExternal(tensor) && TensorSpill.Find(ExternalDataReference.Parse(tensor).Location) is null;

    /// <summary>The tensor's values as floats. Supports float, double and integer element types.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="baseDirectory">The folder external locations are relative to.</param>
    public static float[] ReadFloats(TensorProto tensor, string? baseDirectory = null)
    {
        var type = (DataType)tensor.DataType;
        if (type == DataType.Float)
        {
            if (!ExternalDataReference.IsExternal(tensor) && tensor.RawData.IsEmpty) return tensor.FloatData.ToArray();
            if (IsInDataFile(tensor))
            {
                var floats = ReadExternal<float>(tensor, baseDirectory);
                CheckLength(tensor, floats.Length * 4, 4);
                return floats;
            }
            var bytes = ReadBytes(tensor, baseDirectory).Span;
            CheckLength(tensor, bytes.Length, 4);
            return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        }
        if (type == DataType.Double)
        {
            var bytes = ReadBytes(tensor, baseDirectory).Span;
            CheckLength(tensor, bytes.Length, 8);
            var doubles = MemoryMarshal.Cast<byte, double>(bytes);
            var result = new float[doubles.Length];
            for (int i = 0; i < result.Length; i++) result[i] = (float)doubles[i];
            return result;
        }
        var ints = ReadInt64s(tensor, baseDirectory);
        return Array.ConvertAll(ints, v => (float)v);
    }

    /// <summary>The tensor's values as 64-bit integers. Supports the integer and bool element types.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="baseDirectory">The folder external locations are relative to.</param>
    public static long[] ReadInt64s(TensorProto tensor, string? baseDirectory = null)
    {
        var type = (DataType)tensor.DataType;
        int size = ElementType.SizeOf(tensor.DataType);
        if (size == 0 || type is DataType.Float or DataType.Double or DataType.Float16 or DataType.Bfloat16)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' has element type {ElementType.Name(tensor.DataType)}, which is not an integer type.");
        var bytes = ReadBytes(tensor, baseDirectory).Span;
        CheckLength(tensor, bytes.Length, size);
        var result = new long[bytes.Length / size];
        for (int i = 0; i < result.Length; i++)
        {
            var item = bytes.Slice(i * size, size);
            result[i] = type switch
            {
                DataType.Int8 => (sbyte)item[0],
                DataType.Uint8 or DataType.Bool => item[0],
                DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(item),
                DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(item),
                DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(item),
                DataType.Uint32 => BinaryPrimitives.ReadUInt32LittleEndian(item),
                DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(item),
                DataType.Uint64 => (long)BinaryPrimitives.ReadUInt64LittleEndian(item),
                _ => throw new OnnxFormatException($"Tensor '{tensor.Name}' has unsupported element type {ElementType.Name(tensor.DataType)}."),
            };
        }
        return result;
    }

    /// <summary>Creates a float tensor stored in raw_data.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values in row-major order.</param>
    public static TensorProto FromFloats(string name, IEnumerable<long> dims, ReadOnlySpan<float> values) =>
        FromBytes(name, dims, DataType.Float, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Creates an int8 tensor stored in raw_data.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values in row-major order.</param>
    public static TensorProto FromInt8(string name, IEnumerable<long> dims, ReadOnlySpan<sbyte> values) =>
        FromBytes(name, dims, DataType.Int8, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Creates a uint8 tensor stored in raw_data.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values in row-major order.</param>
    public static TensorProto FromUInt8(string name, IEnumerable<long> dims, ReadOnlySpan<byte> values) =>
        FromBytes(name, dims, DataType.Uint8, values.ToArray());

    /// <summary>Creates an int32 tensor stored in raw_data.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values in row-major order.</param>
    public static TensorProto FromInt32(string name, IEnumerable<long> dims, ReadOnlySpan<int> values) =>
        FromBytes(name, dims, DataType.Int32, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Creates an int64 tensor stored in raw_data.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="values">Values in row-major order.</param>
    public static TensorProto FromInt64(string name, IEnumerable<long> dims, ReadOnlySpan<long> values) =>
        FromBytes(name, dims, DataType.Int64, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Creates a tensor of any fixed-size element type from its raw little-endian bytes (not copied).</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="dims">Shape.</param>
    /// <param name="dataType">ONNX element type.</param>
    /// <param name="rawData">The bytes; the tensor takes ownership.</param>
    public static TensorProto FromBytes(string name, IEnumerable<long> dims, DataType dataType, byte[] rawData)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)dataType, RawData = UnsafeByteOperations.UnsafeWrap(rawData) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static void CheckLength(TensorProto tensor, int byteLength, int elementSize)
    {
        long expected = ElementCount(tensor) * elementSize;
        if (byteLength != expected)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' holds {byteLength} bytes but its shape [{string.Join(",", tensor.Dims)}] needs {expected}. The model is corrupt or truncated.");
    }

    /// <summary>A tensor's bytes from its external data file, read straight into a new array of <typeparamref name="T"/>.</summary>
    private static T[] ReadExternal<T>(TensorProto tensor, string? baseDirectory)
        where T : unmanaged
    {
        var reference = ExternalDataReference.Parse(tensor);
        long length = reference.Length ?? ElementCount(tensor) * Math.Max(1, ElementType.SizeOf(tensor.DataType));
        using var stream = OpenExternal(tensor, reference, baseDirectory, length);
        if (length > int.MaxValue)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' is {length} bytes; single tensors over 2 GiB are not supported.");
        GarbageBound.Check();
        int size = Marshal.SizeOf<T>();
        if (length % size != 0) throw new OnnxFormatException($"Tensor '{tensor.Name}' has {length} bytes of external data, not a whole number of {size}-byte values.");
        var buffer = new T[length / size];
        stream.Position = reference.Offset;
        stream.ReadExactly(MemoryMarshal.AsBytes(buffer.AsSpan()));
        return buffer;
    }

    /// <summary>Opens a tensor's external data file after checking that it holds <paramref name="length"/> bytes at the tensor's offset.</summary>
    private static FileStream OpenExternal(TensorProto tensor, ExternalDataReference reference, string? baseDirectory, long length)
    {
        if (baseDirectory is null)
            throw new OnnxFormatException($"Tensor '{tensor.Name}' keeps its data in an external file, but the model was loaded from memory. Load it from its file path so the data file can be found.");
        var path = reference.ResolvePath(baseDirectory, tensor.Name);
        if (!File.Exists(path))
            throw new OnnxFormatException($"External data file '{reference.Location}' for tensor '{tensor.Name}' was not found in '{baseDirectory}'. Copy the model's data file next to it.");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        if (reference.Offset + length > stream.Length)
        {
            stream.Dispose();
            throw new OnnxFormatException($"Tensor '{tensor.Name}' reads {length} bytes at offset {reference.Offset} of '{reference.Location}', but that file has only {stream.Length} bytes. The data file is truncated or belongs to another model.");
        }
        return stream;
    }

    private static ReadOnlyMemory<byte> TypedFieldsToBytes(TensorProto tensor)
    {
        var type = (DataType)tensor.DataType;
        int size = ElementType.SizeOf(tensor.DataType);
        switch (type)
        {
            case DataType.Float:
                return MemoryMarshal.AsBytes(tensor.FloatData.ToArray().AsSpan()).ToArray();
            case DataType.Double:
                return MemoryMarshal.AsBytes(tensor.DoubleData.ToArray().AsSpan()).ToArray();
            case DataType.Int64:
                return MemoryMarshal.AsBytes(tensor.Int64Data.ToArray().AsSpan()).ToArray();
            case DataType.Uint64 or DataType.Uint32:
            {
                var buffer = new byte[tensor.Uint64Data.Count * size];
                for (int i = 0; i < tensor.Uint64Data.Count; i++)
                {
                    if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(i * 8), tensor.Uint64Data[i]);
                    else BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(i * 4), (uint)tensor.Uint64Data[i]);
                }
                return buffer;
            }
            case DataType.Int32 or DataType.Int16 or DataType.Uint16 or DataType.Int8 or DataType.Uint8
                or DataType.Bool or DataType.Float16 or DataType.Bfloat16:
            {
                var buffer = new byte[tensor.Int32Data.Count * size];
                for (int i = 0; i < tensor.Int32Data.Count; i++)
                {
                    int v = tensor.Int32Data[i];
                    switch (size)
                    {
                        case 1: buffer[i] = (byte)v; break;
                        case 2: BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), (ushort)v); break;
                        default: BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(i * 4), v); break;
                    }
                }
                return buffer;
            }
            default:
                throw new OnnxFormatException($"Tensor '{tensor.Name}' has element type {ElementType.Name(tensor.DataType)}, whose data cannot be read as numbers.");
        }
    }
}
