using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Cli;

/// <summary>Input sets for <c>compare</c>: read from the ONNX test-data layout, or random from the input shapes.</summary>
internal static class ComparisonInputs
{
    /// <summary>
    /// Reads every <c>test_data_set_*</c> folder under <paramref name="directory"/>; <c>input_N.pb</c> (a TensorProto)
    /// feeds the model's N-th input.
    /// </summary>
    public static List<List<NamedOnnxValue>> FromDirectory(string directory, InferenceSession session) =>
        Calibration.TestDataFolder.Read(directory, session.InputMetadata.Keys.ToList()).Select(set => set.ToList()).ToList();

    /// <summary>Random inputs: floats uniform in [-1, 1], integers uniform in [0, <paramref name="integerMax"/>); symbolic dims become <paramref name="batch"/>.</summary>
    public static List<List<NamedOnnxValue>> Random(InferenceSession session, int sets, int batch, int integerMax, int seed)
    {
        var random = new Random(seed);
        var result = new List<List<NamedOnnxValue>>();
        for (int s = 0; s < sets; s++)
        {
            var values = new List<NamedOnnxValue>();
            foreach (var (name, meta) in session.InputMetadata)
            {
                var shape = meta.Dimensions.Select(d => d > 0 ? d : batch).ToArray();
                int count = shape.Aggregate(1, (a, b) => a * b);
                if (meta.ElementType == typeof(float))
                    values.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), shape)));
                else if (meta.ElementType == typeof(long))
                    values.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(Enumerable.Range(0, count).Select(_ => (long)random.Next(integerMax)).ToArray(), shape)));
                else if (meta.ElementType == typeof(int))
                    values.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(Enumerable.Range(0, count).Select(_ => random.Next(integerMax)).ToArray(), shape)));
                else
                    throw new InvalidOperationException($"Input '{name}' has element type {meta.ElementType.Name}; random inputs support float, int64 and int32. Pass --data with test data instead.");
            }
            result.Add(values);
        }
        return result;
    }
}
