using System.Runtime.InteropServices;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.WeightOnly;

namespace MLNet.Quantization.Planning;

/// <summary>
/// Automatic mixed precision for weight-only mode: measures each planned weight's relative 4-bit round-to-nearest
/// error ‖W − Q₄(W)‖² / ‖W‖² and gives 8 bits to the worst ones, worst first, while the average stored bits per weight
/// stays within <see cref="WeightOnlyOptions.BitsPerWeightBudget"/>.
/// </summary>
internal static class MixedPrecisionPlanner
{
    /// <summary>The plan with <see cref="WeightOnlyDecision.Bits"/> set on the promoted nodes, and a note saying what was done.</summary>
    public static (IReadOnlyList<WeightOnlyDecision> Plan, string Note) Assign(GraphEditor graph, IReadOnlyList<WeightOnlyDecision> plan, WeightOnlyOptions settings, CancellationToken cancellationToken)
    {
        double budget = settings.BitsPerWeightBudget!.Value;
        var candidates = new List<(int Index, long Weights, double Error)>();
        var measured = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < plan.Count; i++)
        {
            if (!plan[i].Quantize) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var node = plan[i].Node;
            var value = node.OpType == "Gather" ? node.Input[0] : node.Input[1];
            graph.TryGetConstant(value, out var tensor);
            bool transposed = node.OpType == "Gather" || node.OpType == "Gemm" && NodeAttributes.GetInt(node, "transB", 0) != 0;
            int k = (int)(transposed ? tensor.Dims[1] : tensor.Dims[0]), n = (int)(transposed ? tensor.Dims[0] : tensor.Dims[1]);
            if (!measured.TryGetValue(value, out var error))
            {
                var raw = TensorData.ReadFloatBytes(tensor, graph.Model.BaseDirectory);
                var values = MemoryMarshal.Cast<byte, float>(raw.Span);
                var quantized = BlockQuantizer.Quantize(values, k, n, transposed, settings with { Algorithm = WeightOnlyAlgorithm.Rtn, BitsPerWeightBudget = null });
                error = RelativeError(values, quantized, transposed);
                measured[value] = error;
            }
            candidates.Add((i, (long)k * n, error));
        }
        long total = candidates.Sum(c => c.Weights);
        double spent = total * settings.StoredBits(4), allowed = total * budget, extra = settings.StoredBits(8) - settings.StoredBits(4);
        var result = plan.ToList();
        int promoted = 0;
        foreach (var candidate in candidates.OrderByDescending(c => c.Error))
        {
            if (spent + candidate.Weights * extra > allowed) continue;
            spent += candidate.Weights * extra;
            result[candidate.Index] = result[candidate.Index] with { Bits = 8 };
            promoted++;
        }
        var note = $"mixed precision: 8 bits for {promoted} of {candidates.Count} weights (largest 4-bit error first), {(total == 0 ? 0 : spent / total):F2} bits/weight on average (budget {budget:F2})";
        return (result, note);
    }

    /// <summary>‖W − Q(W)‖² / ‖W‖² with W read in the quantizer's layout.</summary>
    private static double RelativeError(ReadOnlySpan<float> values, BlockQuantizedWeight q, bool transposed)
    {
        double error = 0, norm = 0;
        int blocks = q.BlockCount, bytesPerBlock = q.BytesPerBlock;
        for (int column = 0; column < q.N; column++)
        {
            for (int row = 0; row < q.K; row++)
            {
                int block = row / q.BlockSize, within = row % q.BlockSize;
                long index = (long)column * blocks + block;
                int code = BitPacking.Get(q.Codes.AsSpan((int)(index * bytesPerBlock), bytesPerBlock), within, q.Bits);
                int zero = q.ZeroPoints is null ? 1 << (q.Bits - 1) : BitPacking.Get(q.ZeroPoints.AsSpan(column * q.ZeroPointBytesPerColumn, q.ZeroPointBytesPerColumn), block, q.Bits);
                float w = transposed ? values[column * q.K + row] : values[row * q.N + column];
                double e = w - (code - zero) * q.Scales[index];
                error += e * e;
                norm += (double)w * w;
            }
        }
        return norm == 0 ? 0 : error / norm;
    }
}
