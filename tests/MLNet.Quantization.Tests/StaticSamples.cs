using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Tests;

/// <summary>Calibration and evaluation inputs for the static tests.</summary>
internal static class StaticSamples
{
    /// <summary>Smooth random images, [batch, 3, size, size], flattened.</summary>
    public static float[] Images(int batch, int size, int seed) =>
        ((DenseTensor<float>)ModelZoo.CnnInputs.Create(batch, seed, size)[0].Value).Buffer.ToArray();

    /// <summary>Calibration data of <paramref name="count"/> single images.</summary>
    public static CalibrationData ImageCalibration(int count, int size, int seed) =>
        CalibrationData.FromInputs(Enumerable.Range(0, count).Select(i =>
            (IReadOnlyList<NamedOnnxValue>)new[] { NamedOnnxValue.CreateFromTensor("image", new DenseTensor<float>(Images(1, size, seed + i), new[] { 1, 3, size, size })) }));

    /// <summary>Index of the largest value in each row.</summary>
    public static int[] ArgMax(float[] values, int columns) =>
        Enumerable.Range(0, values.Length / columns).Select(r => Enumerable.Range(0, columns).MaxBy(c => values[r * columns + c])).ToArray();

    /// <summary>Fraction of rows whose argmax agrees.</summary>
    public static double Agreement(float[] a, float[] b, int columns)
    {
        var x = ArgMax(a, columns);
        var y = ArgMax(b, columns);
        return x.Zip(y).Count(p => p.First == p.Second) / (double)x.Length;
    }
}
