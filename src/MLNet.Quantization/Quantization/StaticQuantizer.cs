using MLNet.Quantization.Calibration;
using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;
using MLNet.Quantization.Preparation;

namespace MLNet.Quantization;

/// <summary>Static quantization of a working copy: prepare, plan, calibrate, then write the chosen format.</summary>
internal static class StaticQuantizer
{
    /// <summary>Rewrites <paramref name="graph"/> in place; returns node and tensor reports.</summary>
    public static (List<NodeReport> Nodes, List<TensorReport> Tensors) Run(GraphEditor graph, QuantizationOptions options, CalibrationData data, IProgress<QuantizationProgress>? progress)
    {
        OpsetUpgrade.To10(graph);
        BatchNormFolding.Apply(graph);
        var floatValues = AugmentedModel.FloatValues(graph.Model);
        var plan = StaticPlanner.Plan(graph, options, floatValues);
        progress?.Report(new QuantizationProgress("Planned", plan.Nodes.Count, plan.Nodes.Count + plan.FloatNodes.Count));

        var observed = plan.TensorsToObserve().ToList();
        if (observed.Count > 0)
        {
            foreach (var (tensor, range) in ActivationObserver.Observe(graph.Model, observed, data, options, progress))
                plan.Ranges[tensor] = range;
        }

        var context = new StaticEmitContext(graph, options, plan);
        var nodes = options.Format == QuantizationFormat.Qdq ? QdqEmitter.Emit(context) : QOperatorEmitter.Emit(context);
        nodes.AddRange(plan.FloatNodes);
        var tensors = plan.ActivationTensors.OrderBy(t => t, StringComparer.Ordinal).Select(t => Describe(context, t)).ToList();
        return (nodes, tensors);
    }

    private static TensorReport Describe(StaticEmitContext context, string tensor)
    {
        var plan = context.Plan;
        var source = plan.ParameterSource(tensor);
        var parameters = context.ActivationParameters(tensor);
        var how = plan.TableOutputs.Contains(source) ? "embedding table" : source == tensor ? "calibrated" : $"shared with {source}";
        var range = plan.Ranges.TryGetValue(source, out var r)
            ? r
            : new TensorRange(QuantMath.Dequantize(context.ActivationMin, parameters), QuantMath.Dequantize(context.ActivationMax, parameters));
        return new TensorReport(tensor, range.Min, range.Max, parameters.Scale, parameters.ZeroPoint, how);
    }
}
