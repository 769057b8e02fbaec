using System.Diagnostics;
using MLNet.Quantization.Dequantization;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization;

/// <summary>
/// Turns a quantized model back into a float one: every format this package writes (dynamic, QDQ, QOperator,
/// MatMulNBits, MatMulBnb4, GatherBlockQuantized, float16/bfloat16) becomes plain ONNX float operators with the
/// weights decoded from their integers. Use it to merge adapters into a quantized model, to run it where integer
/// kernels are missing, or to hand it to tools that read only float models.
/// </summary>
/// <remarks>
/// The float model computes with exactly the weights the quantized one stores. Where the quantized model also rounded
/// its activations (static modes, dynamic INT8, MatMulNBits with accuracy level 4, float16 compute), the float model
/// does not, so the two differ by that activation rounding.
/// </remarks>
public static class OnnxDequantizer
{
    /// <summary>Dequantizes a loaded model, which is left unchanged.</summary>
    /// <param name="model">A model quantized by this package (or in the same formats).</param>
    /// <param name="cancellationToken">Stops the run (<see cref="OperationCanceledException"/>).</param>
    /// <returns>The float model and what was replaced.</returns>
    /// <exception cref="InvalidOperationException">The model holds nothing quantized.</exception>
    /// <exception cref="NotSupportedException">A quantized node is in a form that cannot be read back; the message names it.</exception>
    public static (OnnxModel Model, DequantizationReport Report) Dequantize(OnnxModel model, CancellationToken cancellationToken = default)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        return Run(model, null, cancellationToken);
    }

    /// <summary>Dequantizes a model file and writes the float model atomically; on any error nothing is written.</summary>
    /// <param name="inputPath">The quantized model.</param>
    /// <param name="outputPath">Where the float model goes; must differ from the input.</param>
    /// <param name="externalData">Where the output's tensor data goes (float models are about 4–8× larger).</param>
    /// <param name="progress">Receives the writing progress; optional.</param>
    /// <param name="cancellationToken">Stops the run; nothing is written once it is cancelled.</param>
    /// <returns>What was replaced.</returns>
    public static DequantizationReport DequantizeFile(string inputPath, string outputPath, ExternalDataMode externalData = ExternalDataMode.Auto, IProgress<QuantizationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (inputPath is null) throw new ArgumentNullException(nameof(inputPath));
        if (outputPath is null) throw new ArgumentNullException(nameof(outputPath));
        ModelVerifier.VerifyInputFile(inputPath);
        var input = OnnxModelFile.Load(inputPath);
        OutputPathGuard.Check(inputPath, input, outputPath);
        using var spill = TensorSpill.CreateFor(outputPath);
        var (model, report) = Run(input, spill, cancellationToken);
        OnnxModelFile.Save(model, outputPath, externalData, verify: true, cancellationToken, progress);
        return report;
    }

    private static (OnnxModel, DequantizationReport) Run(OnnxModel model, TensorSpill? spill, CancellationToken cancellationToken) =>
        TryRun(model, spill, cancellationToken)
        ?? throw new InvalidOperationException("The model has no quantized operators and no half-precision weights; there is nothing to dequantize.");

    /// <summary>The dequantized model and its report, or null when the model holds nothing quantized.</summary>
    internal static (OnnxModel Model, DequantizationReport Report)? TryRun(OnnxModel model, TensorSpill? spill, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var before = QuantizationReport.MeasureConstants(model.Proto).Values.Sum();
        var working = new OnnxModel(model.Proto.Clone(), model.BaseDirectory) { Spill = spill };
        var rewritten = GraphDequantizer.Run(new GraphEditor(working), cancellationToken);
        if (rewritten.Count == 0) return null;
        var after = QuantizationReport.MeasureConstants(working.Proto).Values.Sum();
        return (working, new DequantizationReport(rewritten, before, after, stopwatch.Elapsed));
    }
}
