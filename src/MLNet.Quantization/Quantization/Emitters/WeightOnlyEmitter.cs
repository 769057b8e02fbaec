using System.Globalization;
using System.Runtime.InteropServices;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Planning;
using MLNet.Quantization.WeightOnly;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Emitters;

/// <summary>
/// Rewrites planned MatMul/Gemm nodes as <c>com.microsoft.MatMulNBits</c>: codes [N, blocks, bytes per block], scales
/// [N, blocks], zero points [N, packed bytes] (asymmetric only), and a following constant bias Add (or Gemm's C)
/// folded into its bias input; Gather over a constant table as <c>com.microsoft.GatherBlockQuantized</c>. A weight
/// shared by several nodes is quantized once per layout.
/// </summary>
internal sealed class WeightOnlyEmitter : EmitContext
{
    private readonly Dictionary<string, (string Codes, string Scales, string? ZeroPoints, double BitsPerWeight)> _weights = new(StringComparer.Ordinal);

    private readonly Dictionary<string, (string Codes, string Absmax, double BitsPerWeight)> _bnb4Weights = new(StringComparer.Ordinal);

    private readonly SequentialHessianObserver? _hessians;

    /// <summary>The index in the original node list of the node being rewritten.</summary>
    private int _nodeIndex;

    /// <summary>GPTQ: the factor of the last input observed, for the weights that read the same input (q/k/v, gate/up).</summary>
    private (string Input, GptqFactor Factor)? _lastFactor;

    private WeightOnlyEmitter(GraphEditor graph, QuantizationOptions options, SequentialHessianObserver? hessians)
        : base(graph, options)
    {
        _hessians = hessians;
    }

    /// <summary>Applies the plan and returns a report line per decision.</summary>
    /// <param name="graph">The graph to rewrite.</param>
    /// <param name="plan">The planner's decisions.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="hessians">GPTQ: the layers' input statistics, observed through the nodes already rewritten; null for RTN and HQQ.</param>
    /// <param name="progress">Receives one report per rewritten node.</param>
    /// <param name="cancellationToken">Checked before each node.</param>
    public static IReadOnlyList<NodeReport> Emit(GraphEditor graph, IReadOnlyList<WeightOnlyDecision> plan, QuantizationOptions options, SequentialHessianObserver? hessians, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken)
    {
        var decisions = new Dictionary<NodeProto, WeightOnlyDecision>(ReferenceEqualityComparer.Instance);
        foreach (var decision in plan) decisions[decision.Node] = decision;
        var emitter = new WeightOnlyEmitter(graph, options, hessians);
        var reports = new List<NodeReport>();
        int toQuantize = plan.Count(d => d.Quantize), done = 0;
        var original = graph.Graph.Node.ToList();
        for (int index = 0; index < original.Count; index++)
        {
            var node = original[index];
            emitter._nodeIndex = index;
            if (emitter.IsFusedAway(node)) continue;
            if (!decisions.TryGetValue(node, out var decision) || !decision.Quantize)
            {
                emitter.Nodes.Add(node);
                if (decision is not null) reports.Add(new NodeReport(decision.DisplayName, node.OpType, false, decision.Reason!));
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            reports.Add(new NodeReport(decision.DisplayName, node.OpType, true, emitter.Rewrite(node, decision)));
            progress?.Report(new QuantizationProgress("Quantizing weights", ++done, toQuantize));
        }
        graph.Graph.Node.Clear();
        graph.Graph.Node.AddRange(emitter.Nodes);
        return reports;
    }

    private string Rewrite(NodeProto node, WeightOnlyDecision decision)
    {
        var settings = decision.Bits is { } bits ? Options.WeightOnly with { Bits = bits } : Options.WeightOnly;
        if (node.OpType == "Gather") return RewriteGather(node, settings);
        var layout = WeightLayout.Of(Graph, node);
        if (settings.Format != WeightOnlyFormat.Integer) return RewriteBnb4(node, layout);
        int k = layout.K, n = layout.N;
        var (codes, scales, zeroPoints, bitsPerWeight) = Quantized(layout, settings, activation: node.Input[0]);

        string bias = "", output = node.Output[0];
        if (node.OpType == "Gemm" && node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            Graph.TryGetConstant(node.Input[2], out var c);
            bias = AsInitializer(node.Input[2], c);
        }
        else if (TryFuseBiasAdd(node.Output[0], n) is { } fused)
        {
            (bias, output) = fused;
        }
        var inputs = new List<string> { node.Input[0], codes, scales };
        if (zeroPoints is not null || bias.Length > 0) inputs.Add(zeroPoints ?? "");
        if (bias.Length > 0) inputs.AddRange(new[] { "", bias });
        AddNode("MatMulNBits", MicrosoftDomain, $"{Sanitize(node.Name.Length > 0 ? node.Name : node.OpType)}_MatMulNBits", inputs, new[] { output },
            OnnxAttribute.Int("K", k).Proto, OnnxAttribute.Int("N", n).Proto, OnnxAttribute.Int("bits", settings.Bits).Proto,
            OnnxAttribute.Int("block_size", settings.BlockSize).Proto, OnnxAttribute.Int("accuracy_level", settings.AccuracyLevel).Proto);
        return Describe("MatMulNBits", settings, bitsPerWeight, bias.Length > 0);
    }

    /// <summary>
    /// MatMul/Gemm → MatMulBnb4 (NF4 or FP4 codes of the transposed weight, absmax per block). The operator has no bias
    /// input: a following bias Add stays as it is, and a Gemm's C becomes an Add.
    /// </summary>
    private string RewriteBnb4(NodeProto node, WeightLayout layout)
    {
        var settings = Options.WeightOnly;
        int k = layout.K, n = layout.N;
        var key = $"{layout.Value}|{layout.Transposed}|bnb4";
        var stem = Sanitize(layout.Value);
        if (!_bnb4Weights.TryGetValue(key, out var stored))
        {
            var raw = TensorData.ReadFloatBytes(layout.Tensor, Graph.Model.BaseDirectory);
            var weight = Bnb4Quantizer.Quantize(MemoryMarshal.Cast<byte, float>(raw.Span), k, n, layout.Transposed, settings.Format, settings.BlockSize);
            var codes = Graph.UniqueName($"{stem}_{settings.Format.ToString().ToUpperInvariant()}");
            Graph.AddInitializer(TensorData.FromBytes(codes, new long[] { weight.Codes.LongLength }, DataType.Uint8, weight.Codes));
            var absmax = AddFloatInitializer($"{stem}_absmax", new long[] { weight.Absmax.LongLength }, weight.Absmax);
            stored = (codes, absmax, weight.BitsPerWeight);
            _bnb4Weights[key] = stored;
        }
        bool hasBias = node.OpType == "Gemm" && node.Input.Count > 2 && node.Input[2].Length > 0;
        string baseName = Sanitize(node.Name.Length > 0 ? node.Name : node.OpType);
        string product = hasBias ? Graph.UniqueName($"{baseName}_product") : node.Output[0];
        AddNode("MatMulBnb4", MicrosoftDomain, $"{baseName}_MatMulBnb4", new[] { node.Input[0], stored.Codes, stored.Absmax }, new[] { product },
            OnnxAttribute.Int("K", k).Proto, OnnxAttribute.Int("N", n).Proto, OnnxAttribute.Int("block_size", settings.BlockSize).Proto,
            OnnxAttribute.Int("quant_type", settings.Format == WeightOnlyFormat.Nf4 ? 1 : 0).Proto);
        if (hasBias)
        {
            Graph.TryGetConstant(node.Input[2], out var c);
            AddNode("Add", "", $"{baseName}_bias", new[] { product, AsInitializer(node.Input[2], c) }, new[] { node.Output[0] });
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"MatMulBnb4 {settings.Format.ToString().ToUpperInvariant()}, block {settings.BlockSize}, absmax, RTN, {stored.BitsPerWeight:F2} bits/weight");
    }

    /// <summary>
    /// Gather(table [V, D], ids) → GatherBlockQuantized: codes [V, D·bits/8] (blocks along each row, D a multiple of
    /// the block size so no padding), scales [V, D / block], zero points packed per row.
    /// </summary>
    private string RewriteGather(NodeProto node, WeightOnlyOptions settings)
    {
        settings = settings with { Format = WeightOnlyFormat.Integer };
        var (codes, scales, zeroPoints, bitsPerWeight) = Quantized(WeightLayout.Of(Graph, node), settings, gatherLayout: true);
        var inputs = new List<string> { codes, node.Input[1], scales };
        if (zeroPoints is not null) inputs.Add(zeroPoints);
        AddNode("GatherBlockQuantized", MicrosoftDomain, $"{Sanitize(node.Name.Length > 0 ? node.Name : node.OpType)}_GatherBlockQuantized", inputs, new[] { node.Output[0] },
            OnnxAttribute.Int("gather_axis", 0).Proto, OnnxAttribute.Int("quantize_axis", 1).Proto,
            OnnxAttribute.Int("block_size", settings.BlockSize).Proto, OnnxAttribute.Int("bits", settings.Bits).Proto);
        return Describe("GatherBlockQuantized", settings.Algorithm == WeightOnlyAlgorithm.Gptq ? settings with { Algorithm = WeightOnlyAlgorithm.Rtn } : settings, bitsPerWeight, biasFolded: false);
    }

    private static string Describe(string opType, WeightOnlyOptions settings, double bitsPerWeight, bool biasFolded) => string.Create(CultureInfo.InvariantCulture,
        $"{opType} {settings.Bits}-bit, block {settings.BlockSize}, {(settings.Symmetric ? "symmetric" : "asymmetric")}, {settings.Algorithm.ToString().ToUpperInvariant()}{(settings.Algorithm == WeightOnlyAlgorithm.Gptq && settings.GptqActOrder ? " act-order" : "")}, {bitsPerWeight:F2} bits/weight{(biasFolded ? ", bias folded in" : "")}");

    /// <summary>
    /// Columns [first, first + count) of the [K, N] weight as a new row-major array GPTQ may change: read straight into it
    /// (from the data file, a slab at a time), or transposed from the same rows of a [N, K] weight.
    /// </summary>
    private float[] WeightColumns(TensorProto tensor, int k, bool transposed, int first, int count)
    {
        if (!transposed) return TensorData.ReadFloatColumns(tensor, Graph.Model.BaseDirectory, first, count);
        var values = TensorData.ReadFloatRows(tensor, Graph.Model.BaseDirectory, first, count);
        var rows = new float[(long)k * count];
        for (int c = 0; c < count; c++)
            for (int r = 0; r < k; r++) rows[(long)r * count + c] = values[(long)c * k + r];
        return rows;
    }

    /// <summary>The GPTQ factor of <paramref name="activation"/>'s Hessian, observed through the nodes rewritten so far.</summary>
    private GptqFactor FactorFor(string activation, int k, WeightOnlyOptions settings)
    {
        if (_lastFactor is { } last && last.Input == activation) return last.Factor;
        _lastFactor = null;
        var factor = GptqFactor.Of(_hessians!.For(activation, Nodes, _nodeIndex, k), settings);
        _lastFactor = (activation, factor);
        return factor;
    }

    private (string Codes, string Scales, string? ZeroPoints, double BitsPerWeight) Quantized(WeightLayout layout, WeightOnlyOptions settings, bool gatherLayout = false, string? activation = null)
    {
        var (valueName, tensor, k, n, transposed) = layout;
        var key = $"{valueName}|{transposed}|{gatherLayout}|{settings.Bits}";
        if (_weights.TryGetValue(key, out var existing)) return existing;
        var factor = settings.Algorithm == WeightOnlyAlgorithm.Gptq && activation is not null && _hessians is not null ? FactorFor(activation, k, settings) : null;
        var weight = factor is not null
            ? GptqSolver.QuantizeByColumns((first, count) => WeightColumns(tensor, k, transposed, first, count), k, n, factor, settings)
            : BlockQuantizer.Quantize(MemoryMarshal.Cast<byte, float>(TensorData.ReadFloatBytes(tensor, Graph.Model.BaseDirectory).Span), k, n, transposed,
                settings with { Algorithm = settings.Algorithm == WeightOnlyAlgorithm.Gptq ? WeightOnlyAlgorithm.Rtn : settings.Algorithm });
        var stem = Sanitize(valueName);
        var codes = Graph.UniqueName($"{stem}_Q{settings.Bits}");
        var codeDims = gatherLayout ? new long[] { n, (long)weight.BlockCount * weight.BytesPerBlock } : new long[] { n, weight.BlockCount, weight.BytesPerBlock };
        Graph.AddInitializer(TensorData.FromBytes(codes, codeDims, DataType.Uint8, weight.Codes));
        var scales = AddFloatInitializer($"{stem}_scales", new long[] { n, weight.BlockCount }, weight.Scales);
        string? zeroPoints = null;
        if (weight.ZeroPoints is not null)
        {
            zeroPoints = Graph.UniqueName($"{stem}_zero_points");
            Graph.AddInitializer(TensorData.FromBytes(zeroPoints, new long[] { n, weight.ZeroPointBytesPerColumn }, DataType.Uint8, weight.ZeroPoints));
        }
        var result = (codes, scales, zeroPoints, weight.BitsPerWeight);
        _weights[key] = result;
        return result;
    }
}
