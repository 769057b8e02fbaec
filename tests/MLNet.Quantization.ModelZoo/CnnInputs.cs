using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.ModelZoo;

/// <summary>Smooth random images for the CNN: low-frequency sine patterns per channel plus a little noise.</summary>
public static class CnnInputs
{
    /// <summary>A batch of images named "image", [batch, 3, size, size].</summary>
    public static List<NamedOnnxValue> Create(int batch, int seed, int size = 32)
    {
        var random = new Random(seed);
        var values = new float[batch * 3 * size * size];
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < 3; c++)
            {
                double fx = random.NextDouble() * 0.5, fy = random.NextDouble() * 0.5, phase = random.NextDouble() * 6.28, amplitude = 0.5 + random.NextDouble();
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        values[((n * 3 + c) * size + y) * size + x] = (float)(amplitude * Math.Sin(fx * x + fy * y + phase) + 0.1 * (random.NextDouble() * 2 - 1));
            }
        }
        return new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("image", new DenseTensor<float>(values, new[] { batch, 3, size, size })) };
    }
}
