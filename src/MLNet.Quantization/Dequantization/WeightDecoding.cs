using System.Runtime.InteropServices;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.HalfPrecision;
using MLNet.Quantization.WeightOnly;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Dequantization;

/// <summary>
/// Turns the stored integers of each format this project writes back into float32 values, returned as the tensor's
/// little-endian bytes so the new initializer takes them without another copy.
/// </summary>
internal static class WeightDecoding
{
    /// <summary>A zeroed buffer for <paramref name="count"/> float32 values; tensors over 2 GiB are refused.</summary>
    private static byte[] FloatBuffer(long count) =>
        count * 4 <= Array.MaxLength ? new byte[count * 4] : throw new NotSupportedException($"A dequantized tensor of {count} values would exceed 2 GiB; single tensors that large are not supported.");

    /// <summary>
    /// DequantizeLinear of a constant: (x − zero point) · scale, per tensor (scalar scale) or along
    /// <paramref name="axis"/> (1-D scale); integer types int8, uint8, int16, uint16 and int32.
    /// </summary>
    public static byte[] Linear(OnnxModel model, TensorProto data, TensorProto scale, TensorProto? zeroPoint, long axis)
    {
        var values = data.DataType is (int)DataType.Int8 or (int)DataType.Uint8 ? null : model.ReadInt64s(data);
        var raw = values is null ? model.ReadTensorBytes(data) : default;
        bool signed = data.DataType == (int)DataType.Int8;
        long count = values?.LongLength ?? raw.Length;
        long Value(long i) => values is not null ? values[i] : signed ? (sbyte)raw.Span[(int)i] : raw.Span[(int)i];
        var scales = model.ReadFloats(scale);
        var zeros = zeroPoint is null ? new long[scales.Length] : model.ReadInt64s(zeroPoint);
        if (zeros.Length != scales.Length)
            throw new OnnxFormatException($"'{data.Name}': its zero point has {zeros.Length} values but its scale {scales.Length}.");
        var bytes = FloatBuffer(count);
        var result = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        if (scales.Length == 1)
        {
            for (int i = 0; i < count; i++) result[i] = (Value(i) - zeros[0]) * scales[0];
            return bytes;
        }
        var dims = data.Dims.ToArray();
        int rank = dims.Length;
        int a = (int)(axis < 0 ? axis + rank : axis);
        if (a < 0 || a >= rank || dims[a] != scales.Length)
            throw new OnnxFormatException($"'{data.Name}' has shape [{string.Join(",", dims)}] but {scales.Length} scales along axis {axis}.");
        long inner = 1;
        for (int d = a + 1; d < rank; d++) inner *= dims[d];
        for (long i = 0; i < count; i++)
        {
            int channel = (int)(i / inner % dims[a]);
            result[(int)i] = (Value(i) - zeros[channel]) * scales[channel];
        }
        return bytes;
    }

    /// <summary>
    /// A MatMulNBits weight as float [K, N]: codes [N, blocks, block·bits/8] with the low bits first, scales
    /// [N, blocks], zero points packed per column the same way (2^(bits−1) when absent).
    /// </summary>
    public static byte[] MatMulNBits(OnnxModel model, TensorProto codes, TensorProto scales, TensorProto? zeroPoints, int k, int n, int bits, int blockSize)
    {
        var code = model.ReadTensorBytes(codes).Span;
        var scale = model.ReadFloats(scales);
        var zero = zeroPoints is null ? default : model.ReadTensorBytes(zeroPoints).Span;
        if (zeroPoints is not null && zeroPoints.DataType != (int)DataType.Uint8)
            throw new OnnxFormatException($"MatMulNBits zero points '{zeroPoints.Name}' are {ElementType.Name(zeroPoints.DataType)}; only packed uint8 zero points can be dequantized.");
        int blocks = (k + blockSize - 1) / blockSize, bytesPerBlock = blockSize * bits / 8, zeroBytes = (blocks * bits + 7) / 8;
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        if (code.Length < (long)n * blocks * bytesPerBlock || scale.Length < (long)n * blocks)
            throw new OnnxFormatException($"MatMulNBits weight '{codes.Name}' is smaller than K={k}, N={n}, block {blockSize} at {bits} bits needs.");
        var bytes = FloatBuffer((long)k * n);
        var weight = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        for (int column = 0; column < n; column++)
        {
            for (int block = 0; block < blocks; block++)
            {
                int zeroPoint = zeroPoints is null ? 1 << (bits - 1) : (zero[column * zeroBytes + block / perByte] >> (block % perByte * bits)) & mask;
                float s = scale[column * blocks + block];
                int start = (column * blocks + block) * bytesPerBlock;
                for (int within = 0, row = block * blockSize; within < blockSize && row < k; within++, row++)
                {
                    int q = (code[start + within / perByte] >> (within % perByte * bits)) & mask;
                    weight[row * n + column] = (q - zeroPoint) * s;
                }
            }
        }
        return bytes;
    }

    /// <summary>
    /// A MatMulBnb4 weight as float [K, N]: the transposed weight [N, K] flattened, 4-bit codes two per byte with the
    /// first element in the high nibble, one absmax per block, values from the NF4 or FP4 code book.
    /// </summary>
    public static byte[] Bnb4(OnnxModel model, TensorProto codes, TensorProto absmax, int k, int n, int blockSize, bool nf4)
    {
        var code = model.ReadTensorBytes(codes).Span;
        var scale = model.ReadFloats(absmax);
        var book = nf4 ? FourBitCodeBook.Nf4 : FourBitCodeBook.Fp4;
        long count = (long)k * n;
        if (code.Length < (count + 1) / 2 || scale.Length < (count + blockSize - 1) / blockSize)
            throw new OnnxFormatException($"MatMulBnb4 weight '{codes.Name}' is smaller than K={k}, N={n}, block {blockSize} needs.");
        var bytes = FloatBuffer(count);
        var weight = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        for (long flat = 0; flat < count; flat++)
        {
            int q = flat % 2 == 0 ? code[(int)(flat / 2)] >> 4 : code[(int)(flat / 2)] & 0xF;
            long column = flat / k, row = flat % k;
            weight[(int)(row * n + column)] = book[q] * scale[flat / blockSize];
        }
        return bytes;
    }

    /// <summary>
    /// A GatherBlockQuantized table as float [rows, width]: uint8 codes [rows, width·bits/8] (low bits first), scales
    /// [rows, width / block], zero points packed per row (2^(bits−1) when absent).
    /// </summary>
    public static byte[] BlockTable(OnnxModel model, TensorProto codes, TensorProto scales, TensorProto? zeroPoints, int bits, int blockSize, out long rows, out long width)
    {
        var code = model.ReadTensorBytes(codes).Span;
        var scale = model.ReadFloats(scales);
        var zero = zeroPoints is null ? default : model.ReadTensorBytes(zeroPoints).Span;
        if (codes.DataType != (int)DataType.Uint8 || codes.Dims.Count != 2 || scales.Dims.Count != 2)
            throw new OnnxFormatException($"GatherBlockQuantized table '{codes.Name}' is not a 2-D uint8 table with 2-D scales; only that layout can be dequantized.");
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        rows = codes.Dims[0];
        width = codes.Dims[1] * perByte;
        int blocks = (int)scales.Dims[1], zeroBytes = (blocks + perByte - 1) / perByte;
        var bytes = FloatBuffer(rows * width);
        var table = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        for (long row = 0; row < rows; row++)
        {
            for (long column = 0; column < width; column++)
            {
                long index = row * width + column;
                int block = (int)(column / blockSize);
                int q = (code[(int)(index / perByte)] >> (int)(index % perByte * bits)) & mask;
                int zeroPoint = zeroPoints is null ? 1 << (bits - 1) : (zero[(int)(row * zeroBytes + block / perByte)] >> (block % perByte * bits)) & mask;
                table[(int)index] = (q - zeroPoint) * scale[row * blocks + block];
            }
        }
        return bytes;
    }

    /// <summary>A float16 or bfloat16 tensor's values as float32.</summary>
    public static byte[] Half(OnnxModel model, TensorProto tensor)
    {
        var half = model.ReadTensorBytes(tensor).Span;
        var bytes = FloatBuffer(half.Length / 2);
        var result = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        bool brain = tensor.DataType == (int)DataType.Bfloat16;
        for (int i = 0; i < result.Length; i++)
        {
            ushort bits = (ushort)(half[2 * i] | half[2 * i + 1] << 8);
            result[i] = brain ? HalfValues.FromBFloat16(bits) : (float)BitConverter.UInt16BitsToHalf(bits);
        }
        return bytes;
    }
}
