using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.ModelZoo;

/// <summary>Smooth random images of any shape: low-frequency sine patterns per channel plus a little noise.</summary>
public static class ImageInputs
{
    /// <summary>One input named <paramref name="name"/>, [batch, channels, height, width].</summary>
    public static List<NamedOnnxValue> Create(string name, int batch, int channels, int height, int width, int seed)
    {
        var random = new Random(seed);
        var values = new float[batch * channels * height * width];
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                double fx = random.NextDouble() * 0.5, fy = random.NextDouble() * 0.5, phase = random.NextDouble() * 6.28, amplitude = 0.5 + random.NextDouble();
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                        values[((n * channels + c) * height + y) * width + x] = (float)(amplitude * Math.Sin(fx * x + fy * y + phase) + 0.1 * (random.NextDouble() * 2 - 1));
            }
        }
        return new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, new[] { batch, channels, height, width })) };
    }
}
