using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.ModelZoo;

/// <summary>Writes inputs in the ONNX test-data layout that <c>--calibration-data</c> and <c>--data</c> read (test_data_set_N/input_K.pb).</summary>
public static class TestDataSets
{
    /// <summary>Writes one set: each input as <c>input_K.pb</c> (float or int64 tensors) in <paramref name="set"/>.</summary>
    public static void Write(string set, IReadOnlyList<NamedOnnxValue> inputs)
    {
        Directory.CreateDirectory(set);
        for (int i = 0; i < inputs.Count; i++)
        {
            var proto = inputs[i].Value switch
            {
                DenseTensor<long> ids => TensorData.FromInt64(inputs[i].Name, ids.Dimensions.ToArray().Select(d => (long)d), ids.Buffer.Span),
                DenseTensor<float> values => TensorData.FromFloats(inputs[i].Name, values.Dimensions.ToArray().Select(d => (long)d), values.Buffer.Span),
                _ => throw new InvalidOperationException("Unexpected input type."),
            };
            File.WriteAllBytes(Path.Combine(set, $"input_{i}.pb"), proto.ToByteArray());
        }
    }
}
