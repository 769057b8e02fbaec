using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization;

/// <summary>One built candidate: its graph, plan, reports and bytes.</summary>
internal sealed record Candidate(GraphEditor Graph, StaticPlan Plan, List<NodeReport> Nodes, List<TensorReport> Tensors, CalibrationMethod Method, IReadOnlyDictionary<int, string> KeepFloat, byte[] Bytes);
