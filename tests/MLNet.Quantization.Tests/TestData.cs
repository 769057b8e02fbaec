using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>Writes inputs in the ONNX test-data layout (test_data_set_N/input_K.pb).</summary>
internal static class TestData
{
    public static void WriteSet(string folder, IReadOnlyList<NamedOnnxValue> inputs)
    {
        Directory.CreateDirectory(folder);
        for (int i = 0; i < inputs.Count; i++)
        {
            var tensor = (DenseTensor<float>)inputs[i].Value;
            File.WriteAllBytes(Path.Combine(folder, $"input_{i}.pb"), TensorData.FromFloats(inputs[i].Name, tensor.Dimensions.ToArray().Select(d => (long)d), tensor.Buffer.Span).ToByteArray());
        }
    }
}
