using System.Buffers.Binary;

namespace MLNet.Quantization.HalfPrecision;

/// <summary>float32 values written as float16 or bfloat16 (little-endian, round to nearest even).</summary>
internal static class HalfValues
{
    /// <summary>The largest finite float16 value.</summary>
    public const float Float16Max = 65504f;

    /// <summary>Whether every value is finite and, for float16, within its range (so nothing becomes infinite).</summary>
    public static bool Fits(ReadOnlySpan<float> values, HalfPrecisionType type)
    {
        float limit = type == HalfPrecisionType.Float16 ? Float16Max : float.MaxValue;
        foreach (var v in values) if (!(MathF.Abs(v) <= limit)) return false;
        return true;
    }

    /// <summary>The 16-bit encoding of <paramref name="values"/>, two bytes each.</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, HalfPrecisionType type)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            ushort bits = type == HalfPrecisionType.Float16 ? BitConverter.HalfToUInt16Bits((Half)values[i]) : ToBFloat16(values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), bits);
        }
        return bytes;
    }

    /// <summary>bfloat16: the upper half of float32's bits, rounded to nearest even.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>A bfloat16 value read back as float32.</summary>
    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
