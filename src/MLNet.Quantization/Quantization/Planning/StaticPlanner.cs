using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using MLNet.Quantization.Operators;

namespace MLNet.Quantization.Planning;

/// <summary>
/// Decides what static quantization does. Products with a constant weight (Conv, MatMul, Gemm) and table lookups
/// are quantized whenever eligible. Every other operator is quantized only inside an integer region — its output
/// read only by quantized nodes and (for Add, Mul, products of two activations, pass-through ops and Relu/Clip) its
/// inputs produced by quantized nodes — because at the edge of a region it would only add conversions. The region is the largest set meeting those rules (found by
/// removing violators until none remain).
/// </summary>
internal static class StaticPlanner
{
    /// <summary>Why a node the latency guard handed back stays float.</summary>
    public const string LatencyGuardReason = "returned to float by the latency guard: its integer region made the model slower than float in ONNX Runtime";

    /// <summary>Why a node the tuner fell back on stays float.</summary>
    public const string TuningReason = "kept float by tuning: among the products whose quantization cost the most accuracy on the evaluation data";

    /// <summary>Why a node stays float while the tuner measures another node's sensitivity.</summary>
    public const string SensitivityReason = "kept float while the tuner measured another node's sensitivity";

    /// <summary>Plans a graph; <paramref name="floatTensors"/> names the run-time values known to be float32.</summary>
    /// <param name="graph">The prepared graph.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="floatTensors">Run-time values known to be float32.</param>
    /// <param name="keepFloat">Nodes (by index in graph order) that must stay float, each with the reason to report, e.g. regions the latency guard handed back.</param>
    public static StaticPlan Plan(GraphEditor graph, QuantizationOptions options, IReadOnlySet<string> floatTensors, IReadOnlyDictionary<int, string>? keepFloat = null)
    {
        var plan = new StaticPlan();
        var candidates = new Dictionary<NodeProto, StaticNodePlan>(ReferenceEqualityComparer.Instance);
        var reasons = new Dictionary<NodeProto, string>(ReferenceEqualityComparer.Instance);
        var order = new List<(NodeProto Node, string Name)>();
        var opTypes = options.EffectiveOpTypes();
        var include = new HashSet<string>(options.NodesToQuantize, StringComparer.Ordinal);
        var exclude = new HashSet<string>(options.ExcludedNodes, StringComparer.Ordinal);
        var normalization = NormalizationDetector.Find(graph);
        long opset = graph.OpsetVersion("") ?? 1;

        for (int index = 0; index < graph.Graph.Node.Count; index++)
        {
            var node = graph.Graph.Node[index];
            if (StaticOperators.FamilyOf(node, graph) is not { } family) continue;
            var name = node.Name.Length > 0 ? node.Name : $"{node.OpType}#{index}";
            order.Add((node, name));
            var entry = new StaticNodePlan(node, name, family) { GraphIndex = index };
            string? reason =
                keepFloat?.TryGetValue(index, out var forced) == true ? forced
                : !opTypes.Contains(node.OpType) ? $"operator type {node.OpType} is not selected"
                : exclude.Contains(node.Name) ? (options.Overrides?.KeepFloat.Contains(node.Name) == true ? "kept float by an override" : "excluded by name")
                : include.Count > 0 && !include.Contains(node.Name) ? "not in the list of nodes to quantize"
                : normalization.Contains(node) ? "part of a normalization (mean/variance) subgraph, which stays float to keep accuracy"
                : StaticEligibility.Check(entry, graph, options, floatTensors, opset);
            if (reason is null) candidates[node] = entry;
            else reasons[node] = reason;
        }

        ShrinkToIntegerRegion(graph, candidates, reasons, options);
        foreach (var (node, name) in order)
        {
            if (candidates.TryGetValue(node, out var entry)) plan.Nodes[node] = entry;
            else plan.FloatNodes.Add(new NodeReport(name, node.OpType, false, reasons[node]));
        }
        CollectTensors(graph, plan, new HashSet<string>(options.Overrides?.ActivationTensors ?? Array.Empty<string>(), StringComparer.Ordinal));
        return plan;
    }

    private static void ShrinkToIntegerRegion(GraphEditor graph, Dictionary<NodeProto, StaticNodePlan> candidates, Dictionary<NodeProto, string> reasons, QuantizationOptions options)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (node, entry) in candidates.ToList())
            {
                if (entry.Kind == StaticOperatorKind.TableLookup) continue;
                if (entry.Kind == StaticOperatorKind.Product)
                {
                    if (entry.ActivationInputs.Count < 2 || options.QuantizeActivationMatMuls || UnquantizedSource(graph, entry, candidates) is not { } sourceReason) continue;
                    candidates.Remove(node);
                    reasons[node] = $"a product of two activations is quantized only inside an integer region, and {sourceReason.Replace(", so it stays float at the integer region's edge", "")}";
                    changed = true;
                    continue;
                }
                var output = node.Output[0];
                var consumers = graph.Consumers(output);
                string? reason = null;
                if (graph.IsObservedOutsideMainGraph(output) || consumers.Count == 0)
                    reason = "its output leaves the graph, so it stays float at the integer region's edge";
                else if (consumers.FirstOrDefault(c => !candidates.ContainsKey(c)) is { } floatConsumer)
                    reason = $"its output is read by a float {floatConsumer.OpType}, so quantizing it would only add conversions";
                else if (entry.Kind is StaticOperatorKind.Binary or StaticOperatorKind.PassThrough or StaticOperatorKind.FoldedActivation)
                    reason = UnquantizedSource(graph, entry, candidates);
                if (reason is null) continue;
                candidates.Remove(node);
                reasons[node] = reason;
                changed = true;
            }
        }
    }

    /// <summary>Why an input of the node does not come from a quantized node (null when all do).</summary>
    private static string? UnquantizedSource(GraphEditor graph, StaticNodePlan entry, Dictionary<NodeProto, StaticNodePlan> candidates)
    {
        foreach (var i in entry.ActivationInputs)
        {
            var producer = graph.Producer(entry.Node.Input[i]);
            if (producer is null) return "its input is a graph input, so it stays float at the integer region's edge";
            if (!candidates.TryGetValue(producer, out var source))
                return $"its input comes from a float {producer.OpType}, so it stays float at the integer region's edge";
            if (entry.Kind == StaticOperatorKind.FoldedActivation && source.Kind is not (StaticOperatorKind.Product or StaticOperatorKind.Binary or StaticOperatorKind.Unary))
                return $"it follows a {producer.OpType}, which it cannot be folded into";
        }
        return null;
    }

    /// <summary>
    /// Gathers the activation tensors and which share parameters. A pass-through output with its own override does
    /// not share its input's parameters: ONNX Runtime then runs that operator on float between DequantizeLinear and
    /// QuantizeLinear, as the override asks.
    /// </summary>
    private static void CollectTensors(GraphEditor graph, StaticPlan plan, IReadOnlySet<string> overridden)
    {
        foreach (var entry in plan.Nodes.Values)
        {
            var node = entry.Node;
            foreach (var i in entry.ActivationInputs) plan.ActivationTensors.Add(node.Input[i]);
            switch (entry.Kind)
            {
                case StaticOperatorKind.FoldedActivation:
                    var producer = graph.Producer(node.Input[0])!;
                    plan.FoldedActivations.Add(node);
                    plan.RenamedOutputs[producer] = node.Output[0];
                    plan.ActivationTensors.Remove(node.Input[0]);
                    break;
                case StaticOperatorKind.PassThrough:
                    plan.ActivationTensors.Add(node.Output[0]);
                    if (!overridden.Contains(node.Output[0])) plan.SharedParameters[node.Output[0]] = node.Input[0];
                    break;
                case StaticOperatorKind.TableLookup:
                    plan.TableOutputs.Add(node.Output[0]);
                    plan.ActivationTensors.Add(node.Output[0]);
                    break;
                case StaticOperatorKind.Product when node.OpType == "Conv":
                case StaticOperatorKind.Binary:
                case StaticOperatorKind.Unary:
                    plan.ActivationTensors.Add(node.Output[0]);
                    break;
            }
        }
        foreach (var (producer, renamed) in plan.RenamedOutputs)
        {
            plan.ActivationTensors.Remove(producer.Output[0]);
            if (plan.Nodes.TryGetValue(producer, out var entry) && entry.Kind != StaticOperatorKind.FoldedActivation)
                plan.ActivationTensors.Add(renamed);
        }
    }
}
