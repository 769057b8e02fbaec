using Microsoft.ML;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Onnx;

namespace MLNet.Quantization;

/// <summary>
/// Quantizes a float ONNX model when fitted and returns ML.NET's own <see cref="OnnxTransformer"/> running the
/// quantized model. The fitted pipeline therefore saves and loads with stock ML.NET: the saved zip holds a plain
/// OnnxTransform with the quantized bytes and needs no reference to this package to load.
/// </summary>
/// <remarks>Create it with <c>mlContext.Transforms.Quantize(...)</c>.</remarks>
public sealed class OnnxQuantizingEstimator : IEstimator<OnnxTransformer>
{
    private readonly TransformsCatalog _catalog;
    private readonly byte[] _floatModel;
    private readonly string[]? _outputColumnNames;
    private readonly string[]? _inputColumnNames;
    private readonly int? _gpuDeviceId;
    private readonly bool _fallbackToCpu;
    private readonly int? _scoringDeviceId;
    private readonly IDictionary<string, int[]>? _shapes;
    private readonly IHost? _host;
    private readonly (int? GpuDeviceId, bool FallbackToCpu) _contextDevice;
    private readonly OnnxScoringEstimator _floatEstimator;
    private QuantizationResult? _quantized;

    internal OnnxQuantizingEstimator(TransformsCatalog catalog, byte[] floatModel, QuantizationOptions options,
        string[]? outputColumnNames, string[]? inputColumnNames, int? gpuDeviceId, bool fallbackToCpu, IDictionary<string, int[]>? shapes = null)
    {
        _shapes = shapes;
        _catalog = catalog;
        _floatModel = floatModel;
        Options = options;
        _outputColumnNames = outputColumnNames;
        _inputColumnNames = inputColumnNames;
        _gpuDeviceId = gpuDeviceId;
        _fallbackToCpu = fallbackToCpu;
        _scoringDeviceId = ScoringDevice(gpuDeviceId, fallbackToCpu);
        var environment = CatalogEnvironment.Find(catalog);
        _host = environment?.Register("Quantize");
        _contextDevice = CatalogEnvironment.Device(environment);
        _floatEstimator = CreateScoringEstimator(floatModel);
    }

    /// <summary>The options quantization runs with.</summary>
    public QuantizationOptions Options { get; }

    /// <summary>The report of the quantization done by the last <see cref="Fit"/>; null before the first fit.</summary>
    public QuantizationReport? Report => _quantized?.Report;

    /// <summary>The quantized model and its report (save it with <see cref="QuantizationResult.Save"/>); null before the first fit.</summary>
    public QuantizationResult? Result => _quantized;

    /// <summary>
    /// The output schema: the same as the float model's, because quantization keeps input and output names, types
    /// and shapes. Throws <see cref="ArgumentOutOfRangeException"/> when an input column is missing or mistyped.
    /// </summary>
    /// <param name="inputSchema">The schema of the data the pipeline will see.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _floatEstimator.GetOutputSchema(inputSchema);

    /// <summary>
    /// Checks the input columns (<see cref="ArgumentOutOfRangeException"/> for a missing or mistyped one), quantizes
    /// the model and returns the transformer. In static mode (and weight-only GPTQ) every fit calibrates again on the rows of
    /// <paramref name="input"/> (or of <see cref="QuantizationOptions.CalibrationData"/> when set), up to
    /// <see cref="QuantizationOptions.MaxCalibrationSamples"/> rows; dynamic mode needs no data and quantizes once.
    /// With <see cref="QuantizationOptions.Tuning"/>, candidates are judged on its evaluation data and metric
    /// (<see cref="TuningTargetException"/> when none meets the target).
    /// </summary>
    /// <param name="input">Data with the model's input columns.</param>
    public OnnxTransformer Fit(IDataView input)
    {
        if (input is null) throw new ArgumentNullException(nameof(input));
        _floatEstimator.Fit(input);
        if (_quantized is null || NeedsData) _quantized = QuantizeWithLogging(input);
        return CreateScoringEstimator(_quantized.ToBytes()).Fit(input);
    }

    /// <summary>Static mode and GPTQ read calibration rows at every fit.</summary>
    private bool NeedsData => Options.Mode == QuantizationMode.Static || (Options.Mode == QuantizationMode.WeightOnly && Options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq);

    private QuantizationResult QuantizeWithLogging(IDataView input)
    {
        using var channel = _host?.Start("Quantize");
        channel?.Info(MessageSensitivity.None, $"Quantizing a {_floatModel.Length / 1024.0:F0} KiB ONNX model ({Options.Mode}).");
        var progress = channel is null ? null : new ChannelProgress(channel);
        var model = Onnx.OnnxModelFile.Load(_floatModel);
        var calibration = NeedsData
            ? DataViewCalibration.Create(Options.CalibrationData ?? input, model.Proto, _shapes)
            : null;
        var result = OnnxQuantizer.Quantize(model, WithCalibrationDevice(WithDataViewTuning(model)), calibration, progress);
        channel?.Info(MessageSensitivity.None, result.Report.ToString());
        return result;
    }

    /// <summary>
    /// The GPU ML.NET's scorer is given: <paramref name="gpuDeviceId"/> when the CUDA provider starts on it; null (the
    /// CPU) when it cannot and <paramref name="fallbackToCpu"/> is set, because ML.NET falls back only on some of the
    /// provider's failures (with the CPU build of ONNX Runtime it throws EntryPointNotFoundException); otherwise the
    /// error naming what is missing. ML.NET reads null as "the MLContext's GpuDeviceId", so with a GPU set on the
    /// MLContext too the fallback scorer is ML.NET's choice, not the CPU.
    /// </summary>
    private static int? ScoringDevice(int? gpuDeviceId, bool fallbackToCpu)
    {
        if (gpuDeviceId is not int device || Onnx.CudaProvider.Probe(device, exactFloat32: false) is not { } failure) return gpuDeviceId;
        if (fallbackToCpu) return null;
        throw Onnx.CudaProvider.Unavailable(device, "Quantize(..., gpuDeviceId)", failure);
    }

    /// <summary>
    /// Calibration runs where the options say; when they name no GPU, on the estimator's <c>gpuDeviceId</c>, else on
    /// the MLContext's <c>GpuDeviceId</c>, each with its own fallback setting (only for runs that calibrate).
    /// </summary>
    private QuantizationOptions WithCalibrationDevice(QuantizationOptions options)
    {
        if (options.GpuDeviceId is not null || !NeedsData) return options;
        if (_gpuDeviceId is not null) return options with { GpuDeviceId = _gpuDeviceId, FallbackToCpu = _fallbackToCpu };
        if (_contextDevice.GpuDeviceId is not null) return options with { GpuDeviceId = _contextDevice.GpuDeviceId, FallbackToCpu = _contextDevice.FallbackToCpu };
        return options;
    }

    /// <summary>Turns the ML.NET forms of the tuning options (an IDataView, a metric over a transformer) into the engine's.</summary>
    private QuantizationOptions WithDataViewTuning(Onnx.OnnxModel model)
    {
        if (Options.Tuning is not { } tuning) return Options;
        var evaluation = tuning.EvaluationData;
        if (evaluation is null && tuning.EvaluationDataView is { } view) evaluation = DataViewCalibration.Create(view, model.Proto, _shapes);
        var metric = tuning.Metric;
        if (metric is null && tuning.TransformerMetric is { } scoreTransformer)
        {
            var fitData = tuning.EvaluationDataView ?? throw new ArgumentNullException(nameof(TuningOptions.EvaluationDataView), "TransformerMetric needs EvaluationDataView: the rows candidates are fitted on.");
            metric = candidate => scoreTransformer(CreateScoringEstimator(candidate.ModelBytes).Fit(fitData));
        }
        return Options with { Tuning = tuning with { EvaluationData = evaluation, Metric = metric } };
    }

    /// <summary>
    /// ML.NET's scorer for <paramref name="model"/>. Where no GPU is given here ML.NET takes the MLContext's, and with
    /// the CPU build of ONNX Runtime it fails on it whatever FallbackToCpu says: that failure gets the error naming
    /// what is missing.
    /// </summary>
    private OnnxScoringEstimator CreateScoringEstimator(byte[] model)
    {
        try
        {
            return CreateScoringEstimatorOn(model);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException && _scoringDeviceId is null && _contextDevice.GpuDeviceId is int device)
        {
            throw Onnx.CudaProvider.Unavailable(device, "MLContext.GpuDeviceId", $"{e.Message} (ML.NET's FallbackToCpu does not cover an ONNX Runtime without the CUDA provider; set MLContext.GpuDeviceId = null to run on the CPU)", e);
        }
    }

    private OnnxScoringEstimator CreateScoringEstimatorOn(byte[] model) => RandomTempNameRetry.Run(() =>
    {
        var stream = new MemoryStream(model, writable: false);
        if (_shapes is not null)
        {
            return _outputColumnNames is null
                ? _catalog.ApplyOnnxModel(stream, _shapes, _scoringDeviceId, _fallbackToCpu)
                : _catalog.ApplyOnnxModel(_outputColumnNames, _inputColumnNames!, stream, _shapes, _scoringDeviceId, _fallbackToCpu);
        }
        return _outputColumnNames is null
            ? _catalog.ApplyOnnxModel(stream, _scoringDeviceId, _fallbackToCpu)
            : _catalog.ApplyOnnxModel(_outputColumnNames, _inputColumnNames!, stream, _scoringDeviceId, _fallbackToCpu);
    });

    /// <summary>Forwards progress to an ML.NET channel as info messages (synchronously, in order).</summary>
    private sealed class ChannelProgress : IProgress<QuantizationProgress>
    {
        private readonly IChannel _channel;
        private int _lastPercent = -1;

        public ChannelProgress(IChannel channel) => _channel = channel;

        public void Report(QuantizationProgress value)
        {
            int percent = value.Total == 0 ? 100 : value.Completed * 100 / value.Total;
            if (percent / 10 == _lastPercent / 10 && percent != 100) return;
            _lastPercent = percent;
            _channel.Info(MessageSensitivity.None, $"{value.Stage}: {value.Completed}/{value.Total}");
        }
    }
}
