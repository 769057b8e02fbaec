using System.Diagnostics;
using MLNet.Quantization.Emitters;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization;

/// <summary>
/// Quantizes ONNX models without ML.NET: load, plan, rewrite, and return the new model with a report.
/// The input model is never modified.
/// </summary>
/// <remarks>
/// Every method throws <see cref="ArgumentOutOfRangeException"/> for options that cannot work, and
/// <see cref="InvalidOperationException"/> before loading the model when <see cref="QuantizationOptions.GpuDeviceId"/>
/// names a GPU the CUDA provider cannot start on (unless <see cref="QuantizationOptions.FallbackToCpu"/>).
/// </remarks>
public static class OnnxQuantizer
{
    /// <summary>Quantizes the model in a file.</summary>
    /// <param name="modelPath">Path to the float .onnx model (external data is read from its folder).</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    public static QuantizationResult Quantize(string modelPath, QuantizationOptions? options = null, IProgress<QuantizationProgress>? progress = null) =>
        Quantize(modelPath, options, null, progress);

    /// <summary>Quantizes a serialized model.</summary>
    /// <param name="modelBytes">The float model's bytes.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    public static QuantizationResult Quantize(byte[] modelBytes, QuantizationOptions? options = null, IProgress<QuantizationProgress>? progress = null) =>
        Quantize(modelBytes, options, null, progress);

    /// <summary>Quantizes a loaded model; <paramref name="model"/> itself is left unchanged.</summary>
    /// <param name="model">The float model.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    public static QuantizationResult Quantize(OnnxModel model, QuantizationOptions? options = null, IProgress<QuantizationProgress>? progress = null) =>
        Quantize(model, options, calibrationData: null, progress);

    /// <summary>Quantizes the model in a file; static mode calibrates on <paramref name="calibrationData"/>.</summary>
    /// <param name="modelPath">Path to the float .onnx model (external data is read from its folder).</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="calibrationData">Representative inputs; required when <see cref="QuantizationOptions.Mode"/> is Static.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    /// <param name="cancellationToken">Stops the run between steps and calibration samples (<see cref="OperationCanceledException"/>).</param>
    public static QuantizationResult Quantize(string modelPath, QuantizationOptions? options, CalibrationData? calibrationData, IProgress<QuantizationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var prepared = Prepare(options, calibrationData);
        return Run(LoadVerified(modelPath), modelPath, null, prepared, calibrationData, progress, cancellationToken);
    }

    /// <summary>Quantizes a serialized model; static mode calibrates on <paramref name="calibrationData"/>.</summary>
    /// <param name="modelBytes">The float model's bytes.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="calibrationData">Representative inputs; required when <see cref="QuantizationOptions.Mode"/> is Static.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    /// <param name="cancellationToken">Stops the run between steps and calibration samples (<see cref="OperationCanceledException"/>).</param>
    public static QuantizationResult Quantize(byte[] modelBytes, QuantizationOptions? options, CalibrationData? calibrationData, IProgress<QuantizationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var prepared = Prepare(options, calibrationData);
        return Run(OnnxModelFile.Load(modelBytes), null, modelBytes, prepared, calibrationData, progress, cancellationToken);
    }

    /// <summary>Quantizes a loaded model, which is left unchanged; static mode calibrates on <paramref name="calibrationData"/>.</summary>
    /// <param name="model">The float model.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="calibrationData">Representative inputs; required when <see cref="QuantizationOptions.Mode"/> is Static.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    /// <param name="cancellationToken">Stops the run between steps and calibration samples (<see cref="OperationCanceledException"/>).</param>
    public static QuantizationResult Quantize(OnnxModel model, QuantizationOptions? options, CalibrationData? calibrationData, IProgress<QuantizationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(model ?? throw new ArgumentNullException(nameof(model)), null, null, Prepare(options, calibrationData), calibrationData, progress, cancellationToken);

    /// <summary>A run's checked options (calibration device resolved) and the notes resolving them made.</summary>
    private sealed record PreparedRun(QuantizationOptions Options, List<string> Notes);

    /// <summary>
    /// Checks the options, the calibration data they need and the calibration device, once, before a model is loaded
    /// or anything is created: a GPU that cannot start (without <see cref="QuantizationOptions.FallbackToCpu"/>)
    /// stops the run here.
    /// </summary>
    private static PreparedRun Prepare(QuantizationOptions? options, CalibrationData? calibrationData)
    {
        options ??= new QuantizationOptions();
        options.Validate();
        if (options.Mode == QuantizationMode.Static && calibrationData is null && options.Calibration is null)
            throw new ArgumentNullException(nameof(calibrationData), "Static quantization needs calibration data: representative inputs (100 to 1,000 samples are typical).");
        if (options.Mode == QuantizationMode.WeightOnly && options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq && calibrationData is null)
            throw new ArgumentNullException(nameof(calibrationData), "GPTQ needs calibration data: representative inputs whose layer activations it observes (128 samples or more are typical). Use Rtn or Hqq to quantize without data.");
        if (options.Tuning is { } tuning && (tuning.EvaluationData is null || (tuning.TransformerMetric is not null && tuning.Metric is null)))
            throw new ArgumentException("TuningOptions.EvaluationDataView and TransformerMetric are for the ML.NET estimator (mlContext.Transforms.Quantize); from OnnxQuantizer give EvaluationData and Metric instead.", nameof(options));
        var notes = new List<string>();
        return new PreparedRun(Calibration.CalibrationDevice.Resolve(options, Calibrates(options, calibrationData), notes), notes);
    }

    /// <summary>Whether a run calibrates: static mode with data, or GPTQ.</summary>
    private static bool Calibrates(QuantizationOptions options, CalibrationData? calibrationData) =>
        (options.Mode == QuantizationMode.Static && calibrationData is not null) || (options.Mode == QuantizationMode.WeightOnly && options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq);

    /// <summary>Checks the file in ONNX Runtime, then parses it (see <see cref="ModelVerifier.VerifyInputFile"/>).</summary>
    private static OnnxModel LoadVerified(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        ModelVerifier.VerifyInputFile(path);
        return OnnxModelFile.Load(path);
    }

    private static QuantizationResult Run(OnnxModel model, string? sourcePath, byte[]? sourceBytes, PreparedRun prepared, CalibrationData? calibrationData, IProgress<QuantizationProgress>? progress, CancellationToken cancellationToken, TensorSpill? spill = null)
    {
        var (options, notes) = prepared;
        var stopwatch = Stopwatch.StartNew();
        if (sourcePath is null) ModelVerifier.VerifyInput(model, null, sourceBytes);
        options.Overrides?.CheckNames(model.Graph);
        cancellationToken.ThrowIfCancellationRequested();
        var before = QuantizationReport.MeasureConstants(model.Proto);

        var working = new OnnxModel(model.Proto.Clone(), model.BaseDirectory);
        var graph = new GraphEditor(working);
        Preparation.LegacyOpsetUpgrade.To9(graph);
        IReadOnlyList<NodeReport> nodes;
        IReadOnlyList<TuningTrial> trials = Array.Empty<TuningTrial>();
        string? missed = null;
        TuningTrial? bestTrial = null;
        CalibrationResult? calibration = null;
        IReadOnlyList<TensorReport>? tensors = null;
        if (options.Mode == QuantizationMode.Static)
        {
            var outcome = StaticQuantizer.Run(graph, options, calibrationData, progress, cancellationToken);
            (nodes, tensors) = (outcome.Nodes, outcome.Tensors);
            notes.AddRange(outcome.Notes);
            trials = outcome.Trials;
            missed = outcome.TargetMissed;
            bestTrial = outcome.BestTrial;
            calibration = outcome.Calibration;
        }
        else if (options.Mode == QuantizationMode.WeightOnly)
        {
            var plan = WeightOnlyPlanner.Plan(graph, options);
            if (options.WeightOnly.BitsPerWeightBudget is not null)
            {
                var (mixed, note) = MixedPrecisionPlanner.Assign(graph, plan, options.WeightOnly, cancellationToken);
                plan = mixed;
                notes.Add(note);
            }
            progress?.Report(new QuantizationProgress("Planned", plan.Count(d => d.Quantize), plan.Count));
            using var hessians = options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq ? WeightOnlyPlanner.HessiansFor(graph, calibrationData!, options, progress, cancellationToken) : null;
            working.Spill = spill;
            nodes = WeightOnlyEmitter.Emit(graph, plan, options, hessians, progress, cancellationToken);
        }
        else if (options.Mode == QuantizationMode.Float16)
        {
            working.Spill = spill;
            nodes = HalfPrecision.HalfPrecisionConverter.Convert(graph, options, notes, progress, cancellationToken);
        }
        else
        {
            var plan = DynamicPlanner.Plan(graph, options);
            progress?.Report(new QuantizationProgress("Planned", plan.Count(d => d.Quantize), plan.Count));
            working.Spill = spill;
            nodes = DynamicEmitter.Emit(graph, plan, options, progress);
        }
        graph.RemoveUnusedValues();
        if (working.Proto.IrVersion < 4 && nodes.Any(n => n.Quantized))
            working.Proto.IrVersion = 4;

        var after = QuantizationReport.MeasureConstants(working.Proto);
        int floatConvs = nodes.Count(n => !n.Quantized && n.Detail == Operators.ConvQuantizer.SlowerThanFloatReason);
        if (options.Mode == QuantizationMode.Dynamic && floatConvs > 0 && floatConvs * 2 >= nodes.Count)
            notes.Add($"{floatConvs} Conv node(s) stay float in dynamic mode, so a convolutional model barely shrinks; static mode (Mode = Static, --mode static with calibration data) quantizes them and runs faster than float.");
        if (options.Mode is QuantizationMode.Dynamic or QuantizationMode.Static && options.ReduceRange is null && options.EffectiveReduceRange && nodes.Any(n => n.Quantized))
            notes.Add($"weights use 7 bits (reduce range) because this CPU ({Hardware.CpuFeatures.Describe()}) saturates full-range 8-bit products in ONNX Runtime; set ReduceRange = false (--reduce-range false) for a model that will run on a CPU with VNNI.");
        stopwatch.Stop();
        var result = new QuantizationResult(working, new QuantizationReport(nodes, before, after, stopwatch.Elapsed, tensors, notes, trials, calibration));
        if (missed is not null) throw new TuningTargetException(missed, trials, bestTrial!, result);
        return result;
    }

    /// <summary>
    /// Quantizes a model file and writes the result atomically; on any error no output file is left behind.
    /// </summary>
    /// <param name="inputPath">The float model.</param>
    /// <param name="outputPath">Where to write the quantized model; must differ from the input.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="externalData">Where the output's tensor data goes.</param>
    /// <param name="progress">Receives progress reports; optional.</param>
    /// <param name="calibrationData">Representative inputs; required when <see cref="QuantizationOptions.Mode"/> is Static.</param>
    /// <param name="cancellationToken">Stops the run; nothing is written once it is cancelled (<see cref="OperationCanceledException"/>).</param>
    /// <remarks>
    /// Refused before anything is written: an output path (or its <c>.data</c> file) that is the input model or one of
    /// its external data files, also through a symbolic or hard link. The written model is loaded in ONNX Runtime
    /// before it is moved into place.
    /// <para>
    /// In dynamic, weight-only and float16 modes memory stays bounded by the largest tensor, not the model: weights in
    /// external data are read one tensor at a time, and each quantized tensor goes to a scratch file next to the output
    /// as soon as it is made, to be copied into the output's data file when the model is written. A model over 2 GiB is
    /// read and written with external data. GPTQ calibrates layer by layer in the same pass, running only the nodes
    /// rewritten since the previous layer, so it too holds one layer's weight and Hessian at a time, besides the values
    /// its calibration samples carry from layer to layer. Static mode keeps its rewritten
    /// tensors in memory, since calibration and tuning run the model in ONNX Runtime while it is being rewritten.
    /// </para>
    /// </remarks>
    public static QuantizationReport QuantizeFile(string inputPath, string outputPath, QuantizationOptions? options = null, ExternalDataMode externalData = ExternalDataMode.Auto, IProgress<QuantizationProgress>? progress = null, CalibrationData? calibrationData = null, CancellationToken cancellationToken = default)
    {
        if (inputPath is null) throw new ArgumentNullException(nameof(inputPath));
        if (outputPath is null) throw new ArgumentNullException(nameof(outputPath));
        var prepared = Prepare(options, calibrationData);
        var input = LoadVerified(inputPath);
        OutputPathGuard.Check(inputPath, input, outputPath);
        using var spill = TensorSpill.CreateFor(outputPath);
        var result = Run(input, inputPath, null, prepared, calibrationData, progress, cancellationToken, spill);
        OnnxModelFile.Save(result.Model, outputPath, externalData, verify: true, cancellationToken, progress);
        return result.Report;
    }
}
