using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>Runs models in ONNX Runtime for comparisons.</summary>
internal static class OrtRunner
{
    /// <summary>Runs the model on named float/int64 inputs and returns every output as floats.</summary>
    public static Dictionary<string, float[]> Run(OnnxModel model, IReadOnlyDictionary<string, (Array Data, int[] Shape)> inputs) =>
        Run(OnnxModelFile.ToBytes(model), inputs);

    /// <summary>Runs serialized model bytes.</summary>
    public static Dictionary<string, float[]> Run(byte[] model, IReadOnlyDictionary<string, (Array Data, int[] Shape)> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var values = inputs.Select(kv => kv.Value.Data switch
        {
            float[] f => NamedOnnxValue.CreateFromTensor(kv.Key, new DenseTensor<float>(f, kv.Value.Shape)),
            long[] l => NamedOnnxValue.CreateFromTensor(kv.Key, new DenseTensor<long>(l, kv.Value.Shape)),
            int[] i => NamedOnnxValue.CreateFromTensor(kv.Key, new DenseTensor<int>(i, kv.Value.Shape)),
            _ => throw new ArgumentException("unsupported input type"),
        }).ToList();
        using var results = session.Run(values);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }
}
