using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Tests.WeightOnly;

/// <summary>
/// Reads a MatMulNBits node back to a float [K, N] matrix, written from the contrib operator's specification alone
/// (codes [N, blocks, block·bits/8] low bits first, scales [N, blocks], zero points packed per column, default
/// 2^(bits−1)), so layout mistakes in the quantizer show up as disagreement with ONNX Runtime.
/// </summary>
internal static class MatMulNBitsReference
{
    public static float[] Dequantize(OnnxModel model, NodeProto node)
    {
        long Attribute(string name) => node.Attribute.Single(a => a.Name == name).I;
        int k = (int)Attribute("K"), n = (int)Attribute("N"), bits = (int)Attribute("bits"), blockSize = (int)Attribute("block_size");
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        byte[] codes = initializers[node.Input[1]].RawData.ToByteArray();
        float[] scales = TensorData.ReadFloats(initializers[node.Input[2]]);
        byte[]? zeroPoints = node.Input.Count > 3 && node.Input[3].Length > 0 ? initializers[node.Input[3]].RawData.ToByteArray() : null;
        int blocks = (k + blockSize - 1) / blockSize, bytesPerBlock = blockSize * bits / 8, zeroBytes = (blocks * bits + 7) / 8;
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        var weight = new float[k * n];
        for (int column = 0; column < n; column++)
        {
            for (int row = 0; row < k; row++)
            {
                int block = row / blockSize, within = row % blockSize;
                int code = (codes[(column * blocks + block) * bytesPerBlock + within / perByte] >> (within % perByte * bits)) & mask;
                int zero = zeroPoints is null ? 1 << (bits - 1) : (zeroPoints[column * zeroBytes + block / perByte] >> (block % perByte * bits)) & mask;
                weight[row * n + column] = (code - zero) * scales[column * blocks + block];
            }
        }
        return weight;
    }

    /// <summary>A GatherBlockQuantized node's table [V, D] read back from its uint8 codes [V, D·bits/8], scales and zero points.</summary>
    public static float[] DequantizeTable(OnnxModel model, NodeProto node, int width)
    {
        long Attribute(string name) => node.Attribute.Single(a => a.Name == name).I;
        int bits = (int)Attribute("bits"), blockSize = (int)Attribute("block_size");
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        byte[] codes = initializers[node.Input[0]].RawData.ToByteArray();
        float[] scales = TensorData.ReadFloats(initializers[node.Input[2]]);
        byte[]? zeroPoints = node.Input.Count > 3 && node.Input[3].Length > 0 ? initializers[node.Input[3]].RawData.ToByteArray() : null;
        int perByte = 8 / bits, mask = (1 << bits) - 1, blocks = width / blockSize, zeroBytes = (blocks + perByte - 1) / perByte;
        int rows = codes.Length * perByte / width;
        var table = new float[rows * width];
        for (int row = 0; row < rows; row++)
        {
            for (int column = 0; column < width; column++)
            {
                int index = row * width + column, block = column / blockSize;
                int code = (codes[index / perByte] >> (index % perByte * bits)) & mask;
                int zero = zeroPoints is null ? 1 << (bits - 1) : (zeroPoints[row * zeroBytes + block / perByte] >> (block % perByte * bits)) & mask;
                table[index] = (code - zero) * scales[row * blocks + block];
            }
        }
        return table;
    }

    /// <summary>x [rows, k] · w [k, n] (+ bias) in double precision.</summary>
    public static float[] MatMul(float[] x, int rows, float[] w, int k, int n, float[]? bias = null)
    {
        var y = new float[rows * n];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double sum = bias?[c] ?? 0;
                for (int i = 0; i < k; i++) sum += (double)x[r * k + i] * w[i * n + c];
                y[r * n + c] = (float)sum;
            }
        }
        return y;
    }
}
