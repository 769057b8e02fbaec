using System.CommandLine;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary><c>quantize IN.onnx -o OUT.onnx [options]</c>.</summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter output, TextWriter errorOutput, CancellationToken cancellationToken)
    {
        var input = new Argument<FileInfo>("model") { Description = "The float ONNX model to quantize, or an ML.NET model zip (MLModel.zip) whose ONNX models are quantized." };
        var outputPath = new Option<FileInfo>("--output", "-o") { Description = "Where to write the quantized model.", Required = true };
        var mode = new Option<string>("--mode") { Description = "Quantization mode.", DefaultValueFactory = _ => "dynamic" };
        mode.AcceptOnlyFromAmong("dynamic", "static", "weight-only", "float16");
        var halfType = new Option<string>("--half-type") { Description = "Float16 mode: float16 (weights, and compute where ONNX Runtime has kernels) or bfloat16 (weights only; opset 13+).", DefaultValueFactory = _ => "float16" };
        halfType.AcceptOnlyFromAmong("float16", "bfloat16");
        var halfCompute = new Option<bool>("--half-compute") { Description = "Float16 mode: operators with a float16 kernel compute in float16 (--half-compute false: weights only, float32 compute).", DefaultValueFactory = _ => true };
        var halfOpTypes = new Option<string?>("--half-op-types") { Description = $"Float16 mode: comma-separated operator types that compute in float16 (default: ONNX Runtime's CPU kernels, {string.Join(",", Float16Options.CpuHalfComputeOpTypes)}; list MatMul,Add,... for CUDA)." };
        var defaults = new WeightOnlyOptions();
        var bits = new Option<int>("--bits") { Description = "Weight-only mode: bits per weight code (2, 4 or 8).", DefaultValueFactory = _ => defaults.Bits };
        var blockSize = new Option<int>("--block-size") { Description = "Weight-only mode: weights per block along K, a power of two from 16 to 256.", DefaultValueFactory = _ => defaults.BlockSize };
        var symmetric = new Option<bool>("--symmetric") { Description = "Weight-only mode: symmetric blocks without zero points (default: asymmetric)." };
        var algorithm = new Option<string>("--algorithm") { Description = "Weight-only mode: rtn (round to nearest), hqq (half-quadratic optimisation of each block's scale and zero point, no data) or gptq (error compensation from --calibration-data).", DefaultValueFactory = _ => "rtn" };
        algorithm.AcceptOnlyFromAmong("rtn", "hqq", "gptq");
        var actOrder = new Option<bool>("--act-order") { Description = "Weight-only GPTQ: quantize rows by decreasing Hessian diagonal (act-order, static groups)." };
        var bitsBudget = new Option<double?>("--bits-budget") { Description = "Weight-only mode, 4-bit: automatic mixed precision — the weights with the largest 4-bit error get 8 bits while the average stored bits/weight stays within this budget (e.g. 5.5)." };
        var accuracyLevel = new Option<int>("--accuracy-level") { Description = "Weight-only mode: MatMulNBits accuracy_level (0/1 float32 compute, 4 int8 compute, fastest on CPU).", DefaultValueFactory = _ => defaults.AccuracyLevel };
        var calibrationData = new Option<FileSystemInfo?>("--calibration-data") { Description = "Static mode and GPTQ: for an .onnx model, a folder of calibration inputs in the ONNX test-data layout (test_data_set_*/input_N.pb); for an ML.NET model zip, an .idv or .csv file of rows with the pipeline's input columns." };
        var calibrationMethod = new Option<string>("--calibration-method") { Description = "Static mode: how ranges are chosen.", DefaultValueFactory = _ => "minmax" };
        calibrationMethod.AcceptOnlyFromAmong("minmax", "percentile", "entropy");
        var percentile = new Option<double>("--percentile") { Description = "Percentile for --calibration-method percentile.", DefaultValueFactory = _ => new QuantizationOptions().Percentile };
        var format = new Option<string>("--format") { Description = "Static mode: qdq (QuantizeLinear/DequantizeLinear pairs, default) or qoperator (QLinear* operators). Weight-only mode: int (integer codes, MatMulNBits, default), nf4 or fp4 (4-bit NormalFloat / float code books with a per-block absmax, MatMulBnb4).", DefaultValueFactory = _ => "qdq" };
        format.AcceptOnlyFromAmong("qdq", "qoperator", "int", "nf4", "fp4");
        var activationType = new Option<string>("--activation-type") { Description = "Static mode: activation element type.", DefaultValueFactory = _ => "uint8" };
        activationType.AcceptOnlyFromAmong("uint8", "int8");
        var maxSamples = new Option<int>("--max-calibration-samples") { Description = "Static mode: at most this many calibration samples are read.", DefaultValueFactory = _ => new QuantizationOptions().MaxCalibrationSamples };
        var weightType = new Option<string>("--weight-type") { Description = "Weight element type.", DefaultValueFactory = _ => "int8" };
        weightType.AcceptOnlyFromAmong("int8", "uint8");
        var perChannel = new Option<bool>("--per-channel") { Description = "One scale per output channel (the default; --per-channel false for per-tensor).", DefaultValueFactory = _ => true };
        var reduceRange = new Option<bool?>("--reduce-range") { Description = "7-bit weights (true/false). Default: automatic, true when this CPU is x86-64 without VNNI, where 8-bit products saturate." };
        var excludeNodes = new Option<string?>("--exclude-nodes") { Description = "Comma-separated node names to keep float." };
        var excludeOps = new Option<string?>("--exclude-op-types") { Description = "Comma-separated operator types to keep float." };
        var opTypes = new Option<string?>("--op-types") { Description = "Comma-separated operator types to quantize (default MatMul,Gemm,Gather,LSTM)." };
        var quantizeConv = new Option<bool>("--quantize-conv") { Description = "Also quantize Conv (smaller but slower on CPU)." };
        var matmulForm = new Option<string>("--matmul-form") { Description = "fused (DynamicQuantizeMatMul) or chain (MatMulInteger, standard ONNX).", DefaultValueFactory = _ => "fused" };
        matmulForm.AcceptOnlyFromAmong("fused", "chain");
        var minElements = new Option<long>("--min-weight-elements") { Description = "Weights with fewer elements stay float.", DefaultValueFactory = _ => new QuantizationOptions().MinimumWeightElements };
        var latencyGuard = new Option<bool>("--latency-guard") { Description = "Static mode: measure against float and hand integer regions that do not pay back to float (--latency-guard false to keep every region).", DefaultValueFactory = _ => true };
        var tune = new Option<bool>("--tune") { Description = "Static mode: search for the plan with the most nodes quantized that meets --min-agreement / --min-cosine on --evaluation-data." };
        var evaluationData = new Option<DirectoryInfo?>("--evaluation-data") { Description = "With --tune: inputs the candidates are judged on (test-data layout), kept apart from the calibration data." };
        var minAgreement = new Option<double?>("--min-agreement") { Description = "With --tune: least share of output positions whose argmax matches float (e.g. 0.99)." };
        var minCosine = new Option<double?>("--min-cosine") { Description = "With --tune: least output cosine with float (e.g. 0.995)." };
        var maxTrials = new Option<int>("--max-trials") { Description = "With --tune: most candidates built and judged.", DefaultValueFactory = _ => new TuningOptions().MaxTrials };
        var timeBudget = new Option<double>("--time-budget") { Description = "With --tune: seconds after which no new trial starts.", DefaultValueFactory = _ => new TuningOptions().TimeBudget.TotalSeconds };
        var writeBest = new Option<bool>("--write-best") { Description = "With --tune: write the best trial even when it misses the target (exit code stays 1)." };
        var calibrationFile = new Option<FileInfo?>("--calibration-file") { Description = "Static mode: activation ranges saved by an earlier --save-calibration, used instead of calibrating again." };
        var saveCalibration = new Option<FileInfo?>("--save-calibration") { Description = "Static mode: write every activation range of this run as JSON, for --calibration-file." };
        var overrides = new Option<FileInfo?>("--overrides") { Description = "JSON with per-node and per-tensor exceptions: { \"keepFloat\": [...], \"tensors\": { \"name\": { \"min\": .., \"max\": .., \"perChannel\": .. } } }." };
        var externalData = new Option<bool>("--external-data") { Description = "Write weights to OUT.onnx.data next to the model." };
        var device = ExecutionDevice.CreateOption("Static mode and GPTQ: where calibration runs, cpu or cuda / cuda:N (ONNX Runtime's CUDA provider on device 0 / N; the CLI must be built against Microsoft.ML.OnnxRuntime.Gpu).");

        var command = new Command("quantize", "Quantize an ONNX model: INT8 (dynamic or static), block-wise 2/4/8-bit or NF4/FP4 weights (weight-only), or float16/bfloat16 (float16).")
        {
            input, outputPath, mode, weightType, perChannel, reduceRange, excludeNodes, excludeOps, opTypes, quantizeConv, matmulForm, minElements, externalData,
            calibrationData, calibrationMethod, percentile, format, activationType, maxSamples, latencyGuard,
            tune, evaluationData, minAgreement, minCosine, maxTrials, timeBudget, writeBest, calibrationFile, saveCalibration, overrides,
            bits, blockSize, symmetric, algorithm, accuracyLevel, bitsBudget, actOrder, halfType, halfCompute, halfOpTypes, device,
        };
        command.SetAction(parse =>
        {
            var weight = parse.GetValue(weightType) == "uint8" ? QuantizedType.UInt8 : QuantizedType.Int8;
            var options = new QuantizationOptions
            {
                Mode = parse.GetValue(mode) switch { "static" => QuantizationMode.Static, "weight-only" => QuantizationMode.WeightOnly, "float16" => QuantizationMode.Float16, _ => QuantizationMode.Dynamic },
                Float16 = new Float16Options
                {
                    Type = parse.GetValue(halfType) == "bfloat16" ? HalfPrecisionType.BFloat16 : HalfPrecisionType.Float16,
                    HalfCompute = parse.GetValue(halfCompute),
                    HalfComputeOpTypes = parse.GetValue(halfOpTypes) is { } listed ? SplitList(listed) : Float16Options.CpuHalfComputeOpTypes,
                },
                WeightOnly = new WeightOnlyOptions
                {
                    Bits = parse.GetValue(bits),
                    BlockSize = parse.GetValue(blockSize),
                    Symmetric = parse.GetValue(symmetric),
                    Algorithm = parse.GetValue(algorithm) switch { "hqq" => WeightOnlyAlgorithm.Hqq, "gptq" => WeightOnlyAlgorithm.Gptq, _ => WeightOnlyAlgorithm.Rtn },
                    AccuracyLevel = parse.GetValue(accuracyLevel),
                    BitsPerWeightBudget = parse.GetValue(bitsBudget),
                    GptqActOrder = parse.GetValue(actOrder),
                    Format = parse.GetValue(format) switch { "nf4" => WeightOnlyFormat.Nf4, "fp4" => WeightOnlyFormat.Fp4, _ => WeightOnlyFormat.Integer },
                },
                Format = parse.GetValue(format) == "qoperator" ? QuantizationFormat.QOperator : QuantizationFormat.Qdq,
                CalibrationMethod = parse.GetValue(calibrationMethod) switch { "percentile" => CalibrationMethod.Percentile, "entropy" => CalibrationMethod.Entropy, _ => CalibrationMethod.MinMax },
                Percentile = parse.GetValue(percentile),
                ActivationType = parse.GetValue(activationType) == "int8" ? QuantizedType.Int8 : QuantizedType.UInt8,
                MaxCalibrationSamples = parse.GetValue(maxSamples),
                WeightType = weight,
                SymmetricWeights = weight == QuantizedType.Int8,
                PerChannel = parse.GetValue(perChannel),
                ReduceRange = parse.GetValue(reduceRange),
                NodesToExclude = SplitList(parse.GetValue(excludeNodes)),
                OpTypesToExclude = SplitList(parse.GetValue(excludeOps)),
                OpTypesToQuantize = SplitList(parse.GetValue(opTypes)),
                QuantizeConv = parse.GetValue(quantizeConv),
                MatMulForm = parse.GetValue(matmulForm) == "chain" ? DynamicMatMulForm.OperatorChain : DynamicMatMulForm.Fused,
                MinimumWeightElements = parse.GetValue(minElements),
                LatencyGuard = parse.GetValue(latencyGuard),
                Tuning = TuningFrom(parse, tune, evaluationData, minAgreement, minCosine, maxTrials, timeBudget),
                Overrides = parse.GetValue(overrides) is { } overridesFile ? QuantizationOverrides.Load(overridesFile.FullName) : null,
                Calibration = parse.GetValue(calibrationFile) is { } rangesFile ? CalibrationResult.Load(rangesFile.FullName) : null,
                GpuDeviceId = ExecutionDevice.GpuDeviceId(parse.GetValue(device)!),
            };
            var source = parse.GetValue(input)!;
            var destination = parse.GetValue(outputPath)!;
            if (!source.Exists) throw new FileNotFoundException($"Model file '{source.FullName}' was not found.");
            var calibration = parse.GetValue(calibrationData);
            if (options.Mode == QuantizationMode.Static && calibration is null && options.Calibration is null)
                throw new UsageException("--mode static needs --calibration-data DIR or --calibration-file FILE.json (a folder of test_data_set_*/input_N.pb inputs, 100 to 1,000 samples are typical).");
            bool gptq = options.Mode == QuantizationMode.WeightOnly && options.WeightOnly.Algorithm == WeightOnlyAlgorithm.Gptq;
            if (options.WeightOnly.GptqActOrder && !gptq)
                throw new UsageException("--act-order is used only with --algorithm gptq.");
            if (gptq && calibration is null)
                throw new UsageException("--algorithm gptq needs --calibration-data DIR (a folder of test_data_set_*/input_N.pb inputs; 128 samples or more are typical).");
            if (options.Mode != QuantizationMode.Static && !gptq && calibration is not null)
                throw new UsageException("--calibration-data is used only with --mode static or --mode weight-only --algorithm gptq.");
            if (options.GpuDeviceId is not null && calibration is null)
                throw new UsageException("--device chooses where calibration runs, so it is used only with --calibration-data (--mode static, or --mode weight-only --algorithm gptq); compare --device measures a model on a GPU.");
            if (options.Mode != QuantizationMode.WeightOnly && new Option[] { bits, blockSize, symmetric, algorithm, accuracyLevel, bitsBudget, actOrder }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } weightOnlyOption)
                throw new UsageException($"{weightOnlyOption.Name} is used only with --mode weight-only.");
            if (options.Mode != QuantizationMode.Float16 && new Option[] { halfType, halfCompute, halfOpTypes }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } halfOption)
                throw new UsageException($"{halfOption.Name} is used only with --mode float16.");
            if (options.Mode == QuantizationMode.Float16 && parse.GetResult(format) is { Implicit: false })
                throw new UsageException("--format does not apply to --mode float16 (use --half-type float16 or bfloat16).");
            bool explicitFormat = parse.GetResult(format) is { Implicit: false };
            bool weightOnlyFormat = parse.GetValue(format) is "int" or "nf4" or "fp4";
            if (explicitFormat && options.Mode == QuantizationMode.WeightOnly && !weightOnlyFormat)
                throw new UsageException($"--format {parse.GetValue(format)} is a static-mode format; weight-only mode takes --format int, nf4 or fp4.");
            if (options.Mode != QuantizationMode.WeightOnly && weightOnlyFormat)
                throw new UsageException($"--format {parse.GetValue(format)} is used only with --mode weight-only (static mode takes qdq or qoperator).");
            if (source.Extension.Equals(".zip", StringComparison.OrdinalIgnoreCase) && !ModelFiles.ModelZip.LooksLikeZip(source.FullName))
                throw new InvalidDataException($"'{source.FullName}' is not a zip. An ML.NET model file is the zip mlContext.Model.Save writes.");
            if (ModelFiles.ModelZip.LooksLikeZip(source.FullName))
            {
                if (calibration is DirectoryInfo)
                    throw new UsageException("For an ML.NET model zip, --calibration-data is an .idv or .csv file of rows with the pipeline's input columns, not a test-data folder.");
                if (parse.GetValue(externalData)) throw new UsageException("--external-data does not apply to an ML.NET model zip: its ONNX models are stored inside the zip.");
                if (new Option[] { tune, saveCalibration, calibrationFile, overrides }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } onnxOnly)
                    throw new UsageException($"{onnxOnly.Name} applies to one ONNX model; for an ML.NET model zip, quantize without it (or extract the model and quantize the .onnx).");
                return ZipCommands.Quantize(source, destination, options, calibration?.FullName, output, errorOutput, cancellationToken);
            }
            if (calibration is FileInfo { Exists: true })
                throw new UsageException($"--calibration-data for an .onnx model is a folder of test_data_set_*/input_N.pb inputs; '{calibration.FullName}' is a file (.idv/.csv files are for ML.NET model zips).");
            var dataMode = parse.GetValue(externalData) ? ExternalDataMode.Always : ExternalDataMode.Auto;
            QuantizationReport report;
            try
            {
                var samples = calibration is null ? null : CalibrationData.FromTestDataFolder(calibration.FullName);
                report = LiveProgress.Run(errorOutput, progress =>
                    OnnxQuantizer.QuantizeFile(source.FullName, destination.FullName, options, dataMode, progress, samples, cancellationToken));
            }
            catch (TuningTargetException missed)
            {
                errorOutput.WriteLine($"error: {missed.Message}");
                var written = TuningReportWriter.Write(missed.Trials, missed.BestResult.Report.Notes, destination.FullName + ".tuning");
                errorOutput.WriteLine($"Trials: {string.Join(", ", written)}.");
                if (parse.GetValue(writeBest))
                {
                    missed.BestResult.Save(destination.FullName, dataMode, cancellationToken);
                    errorOutput.WriteLine($"Wrote the best trial to {destination.FullName} (--write-best); it does not meet the target.");
                }
                else errorOutput.WriteLine("Nothing was written (--write-best writes the best trial anyway).");
                return CliApp.Failure;
            }
            if (parse.GetValue(saveCalibration) is { } rangesOut && report.Calibration is { } observed)
            {
                observed.Save(rangesOut.FullName);
                output.WriteLine($"Wrote the activation ranges to {rangesOut.FullName}.");
            }
            if (report.Trials.Count > 0 && options.Tuning is not null)
                output.WriteLine($"Trials: {string.Join(", ", TuningReportWriter.Write(report.Trials, report.Notes, destination.FullName + ".tuning"))}.");
            output.Write(report.ToString());
            foreach (var tensor in report.Tensors)
                output.WriteLine($"  {tensor.Tensor}: range [{tensor.Min:G5}, {tensor.Max:G5}] scale {tensor.Scale:G5} zero point {tensor.ZeroPoint} ({tensor.Source})");
            output.WriteLine($"Wrote {destination.FullName} ({ModelFileSize.Describe(destination)}; input {ModelFileSize.Describe(source)}).");
            return CliApp.Success;
        });
        return command;
    }

    private static TuningOptions? TuningFrom(ParseResult parse, Option<bool> tune, Option<DirectoryInfo?> evaluationData, Option<double?> minAgreement, Option<double?> minCosine, Option<int> maxTrials, Option<double> timeBudget)
    {
        if (!parse.GetValue(tune))
        {
            if (parse.GetValue(evaluationData) is not null || parse.GetValue(minAgreement) is not null || parse.GetValue(minCosine) is not null)
                throw new UsageException("--evaluation-data, --min-agreement and --min-cosine are used only with --tune.");
            return null;
        }
        var folder = parse.GetValue(evaluationData) ?? throw new UsageException("--tune needs --evaluation-data DIR (inputs kept apart from the calibration data).");
        if (parse.GetValue(minAgreement) is null && parse.GetValue(minCosine) is null)
            throw new UsageException("--tune needs a target: --min-agreement (e.g. 0.99) or --min-cosine (e.g. 0.995).");
        return new TuningOptions
        {
            EvaluationData = CalibrationData.FromTestDataFolder(folder.FullName),
            MinAgreement = parse.GetValue(minAgreement),
            MinCosine = parse.GetValue(minCosine),
            MaxTrials = parse.GetValue(maxTrials),
            TimeBudget = TimeSpan.FromSeconds(parse.GetValue(timeBudget)),
        };
    }

    private static string[] SplitList(string? value) =>
        string.IsNullOrWhiteSpace(value) ? Array.Empty<string>() : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
