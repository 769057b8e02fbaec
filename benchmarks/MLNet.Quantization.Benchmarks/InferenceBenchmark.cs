using MLNet.Quantization.ModelZoo;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Benchmarks;

/// <summary>Single-threaded ONNX Runtime latency of the BERT-shaped model, batch 4 × 128 tokens: float vs quantized forms.</summary>
public class InferenceBenchmark : IDisposable
{
    private InferenceSession? _session;
    private List<NamedOnnxValue> _inputs = new();

    /// <summary>Which model runs.</summary>
    [Params("float", "dynamic-fused", "dynamic-chain")]
    public string Model { get; set; } = "float";

    /// <summary>Builds and (for quantized variants) quantizes the model, then opens a one-thread session.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var shape = new BertShape();
        var model = BertModelBuilder.Build(shape);
        byte[] bytes = Model switch
        {
            "float" => OnnxModelFile.ToBytes(model),
            "dynamic-fused" => OnnxQuantizer.Quantize(model).ToBytes(),
            _ => OnnxQuantizer.Quantize(model, new QuantizationOptions { MatMulForm = DynamicMatMulForm.OperatorChain }).ToBytes(),
        };
        _session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL });
        _inputs = BertInputs.Create(batch: 4, shape, seed: 11);
    }

    /// <summary>One forward pass.</summary>
    [Benchmark]
    public void Run() => _session!.Run(_inputs).Dispose();

    /// <summary>Closes the session.</summary>
    [GlobalCleanup]
    public void Dispose() => _session?.Dispose();
}
