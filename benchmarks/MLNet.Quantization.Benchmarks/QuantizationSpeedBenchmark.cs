using MLNet.Quantization.ModelZoo;
using BenchmarkDotNet.Attributes;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Benchmarks;

/// <summary>How long quantizing the 45 MB BERT-shaped model takes in-process: parse bytes, quantize, serialize.</summary>
[MemoryDiagnoser]
public class QuantizationSpeedBenchmark
{
    private byte[] _model = Array.Empty<byte>();

    /// <summary>Builds the float model once.</summary>
    [GlobalSetup]
    public void Setup() => _model = OnnxModelFile.ToBytes(BertModelBuilder.Build(new BertShape()));

    /// <summary>Bytes in, quantized bytes out.</summary>
    [Benchmark]
    public int QuantizeBertDynamic() => OnnxQuantizer.Quantize(_model).ToBytes().Length;
}
