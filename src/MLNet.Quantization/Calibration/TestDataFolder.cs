using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Calibration;

/// <summary>Reads inputs in the ONNX test-data layout: <c>test_data_set_*/input_N.pb</c>, one TensorProto per model input.</summary>
internal static class TestDataFolder
{
    /// <summary>Lists the <c>test_data_set_*</c> folders, checking the folder exists and holds some.</summary>
    public static IReadOnlyList<string> Sets(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Data folder '{directory}' was not found.");
        var sets = Directory.GetDirectories(directory, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal).ToList();
        if (sets.Count == 0) throw new InvalidOperationException($"'{directory}' holds no test_data_set_* folders (the ONNX test-data layout: test_data_set_0/input_0.pb, ...).");
        return sets;
    }

    /// <summary>Reads the sets one at a time; <c>input_N.pb</c> feeds the model's N-th input.</summary>
    public static IEnumerable<IReadOnlyList<NamedOnnxValue>> Read(string directory, IReadOnlyList<string> inputNames)
    {
        foreach (var set in Sets(directory))
        {
            var values = new List<NamedOnnxValue>();
            for (int i = 0; i < inputNames.Count; i++)
            {
                var path = Path.Combine(set, $"input_{i}.pb");
                if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' is missing: the model has {inputNames.Count} inputs ({string.Join(", ", inputNames)}).");
                TensorProto tensor;
                try { tensor = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)); }
                catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new InvalidDataException($"'{path}' is not a serialized ONNX TensorProto: {e.Message}", e); }
                values.Add(ToValue(inputNames[i], tensor));
            }
            yield return values;
        }
    }

    /// <summary>Converts a TensorProto to an ONNX Runtime input value.</summary>
    public static NamedOnnxValue ToValue(string name, TensorProto tensor)
    {
        var shape = tensor.Dims.Select(d => (int)d).ToArray();
        return (DataType)tensor.DataType switch
        {
            DataType.Float => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(TensorData.ReadFloats(tensor), shape)),
            DataType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(TensorData.ReadInt64s(tensor), shape)),
            DataType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(TensorData.ReadInt64s(tensor).Select(v => (int)v).ToArray(), shape)),
            _ => throw new InvalidOperationException($"Test input for '{name}' has element type {(DataType)tensor.DataType}; supported: float, int64, int32."),
        };
    }
}
