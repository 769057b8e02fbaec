using System.Runtime.InteropServices;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.WeightOnly;

namespace MLNet.Quantization.Planning;

/// <summary>
/// Automatic mixed precision for weight-only mode: measures each planned weight's relative 4-bit round-to-nearest
/// error ‖W − Q₄(W)‖² / ‖W‖² and gives 8 bits to the worst ones, worst first, while the average stored bits per weight
/// stays within <see cref="WeightOnlyOptions.BitsPerWeightBudget"/>. A weight shared by several nodes is measured,
/// counted and promoted once, for all of them (it is stored once).
/// </summary>
internal static class MixedPrecisionPlanner
{
    /// <summary>The plan with <see cref="WeightOnlyDecision.Bits"/> set on the promoted nodes, and a note saying what was done.</summary>
    public static (IReadOnlyList<WeightOnlyDecision> Plan, string Note) Assign(GraphEditor graph, IReadOnlyList<WeightOnlyDecision> plan, WeightOnlyOptions settings, CancellationToken cancellationToken)
    {
        double budget = settings.BitsPerWeightBudget!.Value;
        var candidates = new List<(string Value, List<int> Nodes, long Weights, double Error)>();
        var byValue = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < plan.Count; i++)
        {
            if (!plan[i].Quantize) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var layout = WeightLayout.Of(graph, plan[i].Node);
            if (byValue.TryGetValue(layout.Value, out var known))
            {
                candidates[known].Nodes.Add(i);
                continue;
            }
            var raw = TensorData.ReadFloatBytes(layout.Tensor, graph.Model.BaseDirectory);
            var values = MemoryMarshal.Cast<byte, float>(raw.Span);
            var quantized = BlockQuantizer.Quantize(values, layout.K, layout.N, layout.Transposed, settings with { Algorithm = WeightOnlyAlgorithm.Rtn, BitsPerWeightBudget = null });
            byValue[layout.Value] = candidates.Count;
            candidates.Add((layout.Value, new List<int> { i }, (long)layout.K * layout.N, RelativeError(values, quantized, layout.Transposed)));
        }
        long total = candidates.Sum(c => c.Weights);
        double spent = total * settings.StoredBits(4), allowed = total * budget, extra = settings.StoredBits(8) - settings.StoredBits(4);
        var result = plan.ToList();
        int promoted = 0;
        foreach (var candidate in candidates.OrderByDescending(c => c.Error))
        {
            if (spent + candidate.Weights * extra > allowed) continue;
            spent += candidate.Weights * extra;
            foreach (var index in candidate.Nodes) result[index] = result[index] with { Bits = 8 };
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
